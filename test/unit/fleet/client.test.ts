import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { AgentClient } from "../../../server/fleet/agent/client";
import { FleetError } from "../../../server/fleet/errors";
import type { PullProgress } from "../../../server/fleet/agent/types";

// A fake agent: node:http on a unix socket in a temp dir, reached the way the
// gateway reaches the local agent (net.connect to the socket).

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

let dir: string;
let count = 0;
const servers: http.Server[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-agent-client-"));
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts a fake agent and returns a client for it. */
async function agent(handler: Handler): Promise<{ client: AgentClient; socket: string }> {
  const socket = path.join(dir, `agent-${++count}.sock`);
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => handler(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { client: new AgentClient(async () => net.connect(socket), "test-host"), socket };
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

/** One Docker multiplexed frame. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** The FleetError a promise rejects with (fails the test if it resolves or throws something else). */
async function fleetError(p: Promise<unknown>): Promise<FleetError> {
  const e = await p.then(
    () => expect.fail("expected a FleetError"),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FleetError);
  return e as FleetError;
}

describe("fleet/agent/client AgentClient", () => {
  it("makes JSON calls under the API version prefix", async () => {
    const seen: string[] = [];
    const { client } = await agent((req, res, body) => {
      seen.push(`${req.method} ${req.url} ${req.headers.host}`);
      if (req.url === "/v1.43/_ping") return res.end("OK");
      if (req.url === "/v1.43/version") return json(res, 200, { Version: "0.3.1", ApiVersion: "1.43" });
      if (req.url?.startsWith("/v1.43/containers/json")) return json(res, 200, [{ Id: "c1", Names: ["/web"] }]);
      if (req.url?.startsWith("/v1.43/containers/create")) {
        expect(req.headers["content-type"]).toBe("application/json");
        return json(res, 201, { Id: "new", Warnings: [], got: JSON.parse(body) });
      }
      if (req.url === "/v1.43/volumes") return json(res, 200, { Volumes: null });
      if (req.url?.startsWith("/v1.43/containers/c1/start")) return res.writeHead(204).end();
      json(res, 500, { message: `unexpected ${req.url}` });
    });

    expect(await client.ping()).toBe("OK");
    expect(await client.version()).toEqual({ Version: "0.3.1", ApiVersion: "1.43" });
    expect(await client.containers()).toEqual([{ Id: "c1", Names: ["/web"] }]);
    expect(await client.createContainer({ Image: "nginx" }, "web")).toMatchObject({ Id: "new", got: { Image: "nginx" } });
    expect(await client.volumes()).toEqual([]);
    await expect(client.startContainer("c1")).resolves.toBeUndefined();
    expect(seen).toEqual([
      "GET /v1.43/_ping berth-agent",
      "GET /v1.43/version berth-agent",
      "GET /v1.43/containers/json?all=true berth-agent",
      "POST /v1.43/containers/create?name=web berth-agent",
      "GET /v1.43/volumes berth-agent",
      "POST /v1.43/containers/c1/start berth-agent",
    ]);
  });

  it("turns a 404 {message} into AGENT_ERROR with the status", async () => {
    const { client } = await agent((_req, res) => json(res, 404, { message: "No such container: nope" }));
    const e = await fleetError(client.inspectContainer("nope"));
    expect(e.code).toBe("AGENT_ERROR");
    expect(e.message).toBe("No such container: nope");
    expect(e.details.status).toBe(404);
  });

  it("uses a plain-text or empty error body", async () => {
    const { client } = await agent((req, res) =>
      req.url === "/v1.43/version" ? res.writeHead(409).end("name in use\n") : res.writeHead(500).end(),
    );
    const text = await fleetError(client.version());
    expect([text.code, text.message, text.details.status]).toEqual(["AGENT_ERROR", "name in use", 409]);
    const empty = await fleetError(client.info());
    expect([empty.code, empty.message, empty.details.status]).toEqual(["AGENT_ERROR", "agent answered HTTP 500", 500]);
  });

  it("times out with TIMEOUT when the agent never answers", async () => {
    const { client } = await agent(() => {
      // never answers
    });
    const e = await fleetError(client.version({ timeoutMs: 100 }));
    expect(e.code).toBe("TIMEOUT");
    expect(e.message).toBe("The agent on test-host did not answer GET /version within 0.1 s.");
  });

  it("times out with TIMEOUT when no channel opens", async () => {
    const client = new AgentClient(() => new Promise(() => {}), "stuck-host");
    const e = await fleetError(client.ping({ timeoutMs: 50 }));
    expect(e.code).toBe("TIMEOUT");
    expect(e.message).toBe("stuck-host did not open a channel within 0.05 s");
  });

  it("reports AGENT_UNREACHABLE when the channel can't be opened or the socket is gone", async () => {
    const refused = new AgentClient(() => Promise.reject(new Error("channel open failure")), "h1");
    const e1 = await fleetError(refused.ping());
    expect(e1.code).toBe("AGENT_UNREACHABLE");
    expect(e1.message).toBe("The agent on h1 can't be reached: channel open failure");

    const missing = path.join(dir, "no-such.sock");
    const gone = new AgentClient(async () => net.connect(missing), "h2");
    const e2 = await fleetError(gone.ping());
    expect(e2.code).toBe("AGENT_UNREACHABLE");
    expect(e2.message).toMatch(/^The agent on h2 failed: .*ENOENT/);
  });

  it("refuses to start an already-cancelled request", async () => {
    const { client } = await agent((_req, res) => res.end("OK"));
    const e = await fleetError(client.ping({ signal: AbortSignal.abort() }));
    expect([e.code, e.message]).toEqual(["AGENT_ERROR", "cancelled"]);
  });

  it("pull reports progress and throws the stream's error message", async () => {
    const { client } = await agent((req, res) => {
      expect(req.url).toBe("/v1.43/images/create?fromImage=private%2Fimage%3Alatest");
      expect(req.headers["x-registry-auth"]).toBe("e30=");
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"status":"Pulling from private/image"}\n{"status":"Wait');
      res.write('ing","id":"abc"}\n');
      res.end('{"error":"denied","errorDetail":{"message":"pull access denied for private/image"}}\n');
    });
    const progress: PullProgress[] = [];
    const e = await fleetError(client.pull("private/image:latest", { registryAuth: "e30=", onProgress: (p) => progress.push(p) }));
    expect(e.code).toBe("AGENT_ERROR");
    expect(e.message).toBe("pull access denied for private/image");
    expect(progress).toEqual([{ status: "Pulling from private/image" }, { status: "Waiting", id: "abc" }]);
  });

  it("pull uses `error` when there is no errorDetail, and resolves on success", async () => {
    const { client } = await agent((req, res) => {
      res.writeHead(200);
      if (req.url?.includes("bad")) res.end('{"status":"x"}\n{"error":"manifest unknown"}');
      else res.end('{"status":"Status: Downloaded newer image"}\n');
    });
    expect((await fleetError(client.pull("bad"))).message).toBe("manifest unknown");
    await expect(client.pull("good")).resolves.toBeUndefined();
  });

  it("logs demuxes frames and a follow cancelled by the signal ends quietly", async () => {
    let released!: () => void;
    const closed = new Promise<void>((resolve) => (released = resolve));
    const { client } = await agent((req, res) => {
      if (req.url === "/v1.43/containers/c1/json") return json(res, 200, { Id: "c1", Config: { Tty: false } });
      expect(req.url).toBe("/v1.43/containers/c1/logs?stdout=1&stderr=1&follow=1&tail=10&timestamps=0");
      res.on("close", released);
      res.writeHead(200, { "content-type": "application/vnd.docker.multiplexed-stream" });
      res.write(Buffer.concat([frame(1, "line 1\n"), frame(2, "warn 1\n")]));
      // ...and then keeps following forever.
    });
    const controller = new AbortController();
    const frames: { stream: string; text: string }[] = [];
    for await (const f of client.logs("c1", { follow: true, tail: 10, signal: controller.signal })) {
      frames.push(f);
      if (frames.length === 2) controller.abort();
    }
    expect(frames).toEqual([
      { stream: "stdout", text: "line 1\n" },
      { stream: "stderr", text: "warn 1\n" },
    ]);
    await closed; // the agent saw the connection go away
  });

  it("exec collects output and the exit code", async () => {
    const { client } = await agent((req, res, body) => {
      if (req.url === "/v1.43/containers/c1/exec") {
        expect(JSON.parse(body)).toEqual({ Cmd: ["sh", "-c", "echo hi; echo err >&2; exit 3"], AttachStdout: true, AttachStderr: true });
        return json(res, 201, { Id: "e1" });
      }
      if (req.url === "/v1.43/exec/e1/start") {
        res.writeHead(200);
        res.write(frame(1, "hi\n").subarray(0, 5));
        res.end(Buffer.concat([frame(1, "hi\n").subarray(5), frame(2, "err\n")]));
        return;
      }
      if (req.url === "/v1.43/exec/e1/json") return json(res, 200, { ExitCode: 3 });
      json(res, 404, { message: "no" });
    });
    expect(await client.exec("c1", ["sh", "-c", "echo hi; echo err >&2; exit 3"])).toEqual({ exitCode: 3, stdout: "hi\n", stderr: "err\n" });
  });

  it("events yields JSON lines until the signal aborts", async () => {
    const { client } = await agent((_req, res) => {
      res.writeHead(200);
      res.write('{"Type":"container","Action":"start","Actor":{"ID":"c1"},"time":1}\n{"Type":"cont');
      res.write('ainer","Action":"die","Actor":{"ID":"c1"},"time":2}\n');
    });
    const controller = new AbortController();
    const actions: string[] = [];
    for await (const ev of client.events({ signal: controller.signal })) {
      actions.push(ev.Action);
      if (actions.length === 2) controller.abort();
    }
    expect(actions).toEqual(["start", "die"]);
  });
});
