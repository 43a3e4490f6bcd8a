import "server-only";
import type { Duplex } from "node:stream";
import { agentFailedMessage, agentFailureLogLine } from "../fleet/app-errors";
import { readResponseHead } from "../http/response-head";
import { type Approved, type LiveStream, type ProxyContext, recordCall } from "./context";
import { auditsEveryCall } from "./endpoints";
import { dockerMessage, outcomeOf } from "./docker-errors";
import { recordAttach, recordExecEnd, recordExecStart } from "./session-audit";
import { forwardedRequestHeaders, sendRawError, upgradeRequestHead } from "./wire";

// Hijacked calls (attach, exec start with `Upgrade: tcp`): the agent's answer
// goes to the client as it came, then raw bytes both ways, half-closes
// included (the CLI closes its write side when stdin ends, and output keeps
// coming). An exec or a stdin attach is recorded as a session, start and end.

/** The first answer to a hijack (101) comes at once; attach/exec output follows without a deadline. */
const HIJACK_HEAD_TIMEOUT_MS = 30_000;
/** Kept of an error answer, for the audit record's message. */
const ERROR_SNIPPET_BYTES = 4096;

export async function splice(ctx: ProxyContext, socket: Duplex, stream: Duplex, a: Approved, body: Buffer, extra: Buffer): Promise<void> {
  const endpoint = a.match.endpoint;
  const forwardHeaders = forwardedRequestHeaders(ctx.requestHeadersOf.get(socket) ?? {});
  stream.write(Buffer.concat([upgradeRequestHead("POST", a.agentPath, forwardHeaders, body.length), body]));
  let answer;
  try {
    answer = await readResponseHead(stream, HIJACK_HEAD_TIMEOUT_MS);
  } catch (e) {
    stream.destroy();
    const message = `host ${a.host.name}: the agent did not answer: ${e instanceof Error ? e.message : String(e)}`;
    if (auditsEveryCall(endpoint)) await recordCall(a, "error", message);
    return sendRawError(socket, 502, message);
  }
  const upgraded = answer.status === 101 || answer.status === 200;
  const isStdinAttach = endpoint.kind === "attach" && a.params.stdin === true;
  const started = Date.now();
  let closedBy = "process";
  let finished = false;
  let markDone = () => {};
  const entry: LiveStream = {
    close: () => {
      closedBy = "shutdown";
      stream.destroy();
      socket.destroy();
    },
    done: new Promise<void>((resolve) => (markDone = resolve)),
  };
  ctx.hijacked.add(entry);
  // The agent's answer goes to the client as it came, except an internal error (5xx): the client reads
  // "the agent on host X failed (request id …)" instead, and the agent's words go to the log.
  const hidden = !upgraded && answer.status >= 500;
  if (!hidden) socket.write(Buffer.concat([answer.raw, answer.rest]));
  if (extra.length) stream.write(extra);

  if (!upgraded) {
    // An error answer (no such container, not running…): passed on and closed.
    let text = answer.rest.toString("utf8");
    stream.on("data", (c: Buffer) => {
      text = (text + c.toString("utf8")).slice(0, ERROR_SNIPPET_BYTES);
      if (!hidden) socket.write(c);
    });
    const end = () => {
      if (finished) return;
      finished = true;
      stream.destroy();
      ctx.hijacked.delete(entry);
      let errorMessage = dockerMessage(text.slice(text.indexOf("{")));
      if (hidden) {
        ctx.log(agentFailureLogLine(a.host.name, answer.status, a.meta.requestId, errorMessage));
        errorMessage = agentFailedMessage(a.host.name, a.meta.requestId);
        sendRawError(socket, answer.status, errorMessage);
      } else socket.end();
      if (isStdinAttach) return void recordAttach(a, "start", outcomeOf(answer.status), { status: answer.status }, errorMessage).finally(markDone);
      void (auditsEveryCall(endpoint) ? recordCall(a, outcomeOf(answer.status), errorMessage, { status: answer.status }) : Promise.resolve()).finally(markDone);
    };
    stream.once("end", end);
    stream.once("close", end);
    stream.resume();
    return;
  }

  if (endpoint.kind === "execStart") void recordExecStart(a);
  if (isStdinAttach) void recordAttach(a, "start", "success", { status: answer.status });
  socket.on("data", (c: Buffer) => {
    if (!stream.write(c)) {
      socket.pause();
      stream.once("drain", () => socket.resume());
    }
  });
  socket.once("end", () => {
    if (closedBy === "process") closedBy = "client";
    stream.end();
  });
  stream.on("data", (c: Buffer) => {
    if (!socket.write(c)) {
      stream.pause();
      socket.once("drain", () => stream.resume());
    }
  });
  const end = () => {
    if (finished) return;
    finished = true;
    socket.end();
    // A client that doesn't close its side after ours is dropped shortly after.
    setTimeout(() => socket.destroy(), 5_000).unref();
    stream.destroy();
    ctx.hijacked.delete(entry);
    const after =
      endpoint.kind === "execStart"
        ? recordExecEnd(ctx, a, a.match.params[0]!, started, closedBy)
        : isStdinAttach
          ? recordAttach(a, "end", "success", { durationMs: Date.now() - started, closedBy })
          : Promise.resolve();
    void after.finally(markDone);
  };
  stream.once("end", end);
  stream.once("close", end);
  socket.once("close", () => {
    if (!finished) {
      closedBy = closedBy === "shutdown" ? closedBy : "client";
      stream.destroy();
    }
  });
  socket.on("error", () => {});
  stream.resume();
  socket.resume();
}
