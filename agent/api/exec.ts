import type { ContainerEngine } from "../engine/engine";
import type { ExecManager } from "../engine/exec";
import { ApiError } from "./errors";
import { type Ctx, hijack, query, readJson, Router, sendEmpty, sendJson, streamResponse } from "./http";
import { frame, MUX_TYPE, RAW_TYPE, STDERR, STDOUT } from "./streams";

// /containers/{id}/exec and /exec/* — docker exec.

function asStrings(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new ApiError(400, `invalid ${field}: expected an array of strings`);
  return v as string[];
}

export function execRoutes(router: Router, engine: ContainerEngine, execs: ExecManager): void {
  router.add("POST", "/containers/{id}/exec", async (ctx) => {
    const body = (await readJson(ctx)) as Record<string, unknown> | undefined;
    if (!body || typeof body !== "object") throw new ApiError(400, "exec config cannot be empty");
    const cmd = asStrings(body.Cmd, "Cmd");
    const id = execs.create(ctx.params[0]!, {
      Cmd: cmd ?? [],
      Env: asStrings(body.Env, "Env"),
      WorkingDir: typeof body.WorkingDir === "string" ? body.WorkingDir : undefined,
      User: typeof body.User === "string" ? body.User : undefined,
      Tty: body.Tty === true,
      AttachStdin: body.AttachStdin === true,
      AttachStdout: body.AttachStdout === true,
      AttachStderr: body.AttachStderr === true,
      Privileged: body.Privileged === true,
      ConsoleSize: Array.isArray(body.ConsoleSize) ? (body.ConsoleSize as [number, number]) : null,
    });
    sendJson(ctx, 201, { Id: id });
  });

  router.add("POST", "/exec/{id}/start", async (ctx) => {
    const body = ((await readJson(ctx)) ?? {}) as { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null };
    const session = execs.get(ctx.params[0]!);
    const tty = body.Tty ?? Boolean(session.config.Tty);
    const { child, done } = await execs.start(session.id, { tty, consoleSize: body.ConsoleSize });
    if (body.Detach) {
      child.stdin?.end();
      child.stdout?.resume();
      child.stderr?.resume();
      sendEmpty(ctx, 200);
      return;
    }
    const out = ctx.socket ? hijack(ctx, tty ? RAW_TYPE : MUX_TYPE) : streamResponse(ctx, tty ? RAW_TYPE : MUX_TYPE);
    const send = (stream: number) => (d: Buffer) => {
      if (!out.writable) return;
      out.write(tty ? d : frame(stream, d));
    };
    if (session.config.AttachStdout !== false) child.stdout?.on("data", send(STDOUT));
    else child.stdout?.resume();
    if (session.config.AttachStderr !== false) child.stderr?.on("data", send(STDERR));
    else child.stderr?.resume();
    child.stdin?.on("error", () => {});
    if (session.config.AttachStdin && ctx.socket) execs.relayStdin(session.id, ctx.socket, ctx.head);
    else child.stdin?.end();
    out.on("close", () => {
      if (session.running) child.kill("SIGKILL");
    });
    await done;
    out.end();
  });

  router.add("POST", "/exec/{id}/resize", async (ctx) => {
    await execs.resize(ctx.params[0]!, query.int(ctx.url, "h") ?? 0, query.int(ctx.url, "w") ?? 0);
    sendEmpty(ctx, 200);
  });

  router.add("GET", "/exec/{id}/json", (ctx: Ctx) => {
    const s = execs.get(ctx.params[0]!);
    const c = engine.find(s.containerId);
    sendJson(ctx, 200, {
      ID: s.id,
      Running: s.running,
      ExitCode: s.exitCode,
      ProcessConfig: { tty: Boolean(s.config.Tty), entrypoint: s.config.Cmd[0], arguments: s.config.Cmd.slice(1), privileged: Boolean(s.config.Privileged), user: s.config.User ?? "" },
      OpenStdin: Boolean(s.config.AttachStdin),
      OpenStderr: s.config.AttachStderr !== false,
      OpenStdout: s.config.AttachStdout !== false,
      CanRemove: false,
      ContainerID: c?.id ?? s.containerId,
      DetachKeys: "",
      Pid: s.pid,
    });
  });
}
