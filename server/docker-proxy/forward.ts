import "server-only";
import http from "node:http";
import type { Duplex } from "node:stream";
import type { AuditOutcome } from "../audit/types";
import { agentFailedMessage, agentFailureLogLine } from "../fleet/app-errors";
import { readCapped } from "../http/read-capped";
import { CONFINEMENT_HEADER, encodeConfinement } from "../../lib/confinement";
import { type Approved, type LiveStream, type ProxyContext, recordCall } from "./context";
import { auditsEveryCall } from "./endpoints";
import { bodyLimitOf } from "./request-body";
import { dockerMessage, outcomeOf, progressError } from "./docker-errors";
import { sendMaskedInspect } from "./mask-inspect";
import { recordAttach, recordExecEnd, recordExecStart } from "./session-audit";
import { forwardedRequestHeaders, forwardedResponseHeaders, sendError } from "./wire";

// Plain (not hijacked) calls: Node's HTTP client over one agent stream, the
// answer streamed back as it comes (logs -f, events, pull progress, wait),
// then the outcome on record. An exec create's answer is read whole first
// (the exec is this user's before the client can start it); an inspect's is
// masked (mask-inspect.ts); an agent's internal error (5xx) is replaced by
// "the agent on host X failed (request id …)", its words logged.

/** Kept of an error answer or of a progress stream's tail, for the audit record's message. */
const ERROR_SNIPPET_BYTES = 4096;
/** An exec create answer ({"Id": …}) is read whole up to this size. */
const EXEC_CREATE_MAX_BYTES = 64 * 1024;

/**
 * Answers an agent's 5xx without its words (they stay in the gateway's log):
 * `finish` records the outcome with the message the client got.
 */
function answerAgentFailure(ctx: ProxyContext, a: Approved, ares: http.IncomingMessage, res: http.ServerResponse, finish: (outcome: AuditOutcome, message: string, closedBy: string) => void): void {
  const status = ares.statusCode ?? 500;
  readCapped(ares, ERROR_SNIPPET_BYTES).then(
    ({ body }) => {
      ctx.log(agentFailureLogLine(a.host.name, status, a.meta.requestId, dockerMessage(body.toString("utf8"))));
      const message = agentFailedMessage(a.host.name, a.meta.requestId);
      sendError(res, status, message);
      finish("error", message, "process");
    },
    () => {
      res.destroy();
      finish("error", "the agent's answer broke off", "agent");
    },
  );
}

export function forward(ctx: ProxyContext, req: http.IncomingMessage, res: http.ServerResponse, a: Approved, stream: Duplex, body: Buffer | null, streamBody: boolean): void {
  const endpoint = a.match.endpoint;
  const headers: Record<string, string | string[] | number> = { ...forwardedRequestHeaders(req.headers), host: "api.moby.localhost" };
  if (a.confinement) headers[CONFINEMENT_HEADER] = encodeConfinement(a.confinement);
  if (body) headers["content-length"] = body.length;
  else if (streamBody && req.headers["content-length"]) headers["content-length"] = req.headers["content-length"];
  const agentReq = http.request({ method: req.method, path: a.agentPath, headers, createConnection: () => stream as never });
  const started = Date.now();
  let done = false;
  let status = 0;
  let snippet = "";
  const isExecStart = endpoint.kind === "execStart";
  const isStdinAttach = endpoint.kind === "attach" && a.params.stdin === true;
  const keepSnippet = auditsEveryCall(endpoint) || isExecStart || isStdinAttach;
  /** An attach with stdin answered 2xx: its start was recorded; its end is recorded when it closes. */
  let attachRunning = false;
  /** An attached exec (not detached) answered 200: its start was recorded as it began; its end is recorded below. */
  let execRunning = false;
  let shutdown = false;
  let markDone = () => {};
  const entry: LiveStream = {
    close: () => {
      shutdown = true;
      agentReq.destroy();
      res.destroy();
    },
    done: new Promise<void>((resolve) => (markDone = resolve)),
  };
  ctx.streams.add(entry);
  const finish = (outcome: AuditOutcome | null, errorMessage: string | null, closedByWhom: string) => {
    if (done) return;
    done = true;
    ctx.streams.delete(entry);
    const closedBy = shutdown ? "shutdown" : closedByWhom;
    if (shutdown && outcome !== null && status === 0) errorMessage = "the gateway shut down";
    stream.destroy();
    // Shutdown waits for the record (entry.done) before the database goes.
    const recorded = ((): Promise<void> => {
      if (isStdinAttach && outcome !== null) {
        return attachRunning ? recordAttach(a, "end", "success", { status, durationMs: Date.now() - started, closedBy }) : recordAttach(a, "start", outcome, { status }, errorMessage);
      }
      if (!auditsEveryCall(endpoint) || outcome === null) return Promise.resolve();
      if (execRunning) return recordExecEnd(ctx, a, a.match.params[0]!, started, closedBy);
      return recordCall(a, outcome, errorMessage, { status, ...(isExecStart ? { via: "docker-proxy" } : {}), ...(shutdown ? { closedBy } : {}) });
    })();
    void recorded.finally(markDone);
  };
  agentReq.once("response", (ares) => {
    status = ares.statusCode ?? 502;
    if (status >= 500) return answerAgentFailure(ctx, a, ares, res, finish);
    if (endpoint.kind === "containerInspect" && status === 200) return void sendMaskedInspect(ctx, a, ares, res, () => finish(null, null, "process"));
    if (endpoint.kind === "execCreate") return void passExecCreate(ctx, a, ares, res, (outcome, message) => finish(outcome, message, "process"));
    const out = forwardedResponseHeaders(ares.headers);
    res.writeHead(status, out);
    if (ares.headers["content-length"] === undefined) res.flushHeaders();
    if (isStdinAttach && status < 300) {
      attachRunning = true;
      void recordAttach(a, "start", "success", { status });
    }
    if (isExecStart && status < 300 && !a.params.detach) {
      execRunning = true;
      void recordExecStart(a, { status });
    }
    ares.on("data", (c: Buffer) => {
      if (keepSnippet) snippet = (snippet + c.toString("utf8")).slice(-ERROR_SNIPPET_BYTES);
      if (!res.write(c)) {
        ares.pause();
        res.once("drain", () => ares.resume());
      }
    });
    ares.once("end", () => {
      res.end();
      const progress = status < 400 && /json/.test(String(ares.headers["content-type"] ?? "")) ? progressError(snippet) : null;
      finish(status >= 400 ? outcomeOf(status) : progress ? "error" : "success", status >= 400 ? dockerMessage(snippet) : progress, "process");
    });
    ares.once("error", () => {
      res.destroy();
      finish("error", "the agent's answer broke off", "agent");
    });
  });
  agentReq.once("error", (e) => {
    if (!res.headersSent) sendError(res, 502, `host ${a.host.name}: the agent connection failed: ${e.message}`);
    else res.destroy();
    finish("error", `agent connection failed: ${e.message}`, "agent");
  });
  // The client went away (logs -f, events, a pull interrupted): the agent stream goes too.
  res.once("close", () => {
    if (!res.writableFinished) {
      agentReq.destroy();
      finish(status ? (status >= 400 ? outcomeOf(status) : "success") : "error", status ? null : "the client disconnected", "client");
    }
  });

  if (body) return void agentReq.end(body);
  if (!streamBody) return void agentReq.end();
  // A streamed body (build context, image load/import, docker cp's tar): capped as it goes.
  const limit = bodyLimitOf(ctx, a);
  let total = 0;
  req.on("data", (c: Buffer) => {
    total += c.length;
    if (total > limit) {
      req.unpipe();
      agentReq.destroy();
      if (!res.headersSent) sendError(res, 413, `request body is larger than ${limit} bytes`, { connection: "close" });
      else res.destroy();
      finish("denied", `request body is larger than ${limit} bytes`, "client");
      req.destroy();
      return;
    }
    if (!agentReq.write(c)) {
      req.pause();
      agentReq.once("drain", () => req.resume());
    }
  });
  req.once("end", () => agentReq.end());
}

/** An exec create's answer, read whole (it is small) so the exec is on record as this user's before the client can start it. */
function passExecCreate(ctx: ProxyContext, a: Approved, ares: http.IncomingMessage, res: http.ServerResponse, finish: (outcome: AuditOutcome, message: string | null) => void): void {
  const status = ares.statusCode ?? 502;
  readCapped(ares, EXEC_CREATE_MAX_BYTES).then(
    ({ body, complete }) => {
      const text = body.toString("utf8");
      if (status < 300 && complete) {
        try {
          const id = (JSON.parse(text) as { Id?: unknown }).Id;
          if (typeof id === "string" && id) {
            ctx.execOwners.record(id, { userId: a.viewer.user.id, hostId: a.host.id });
            a.params.execId = id;
          }
        } catch {
          // not JSON: nothing to record (a later start of it is refused)
        }
      }
      const headers = forwardedResponseHeaders(ares.headers);
      delete headers["content-length"];
      const out = complete ? body : Buffer.alloc(0);
      res.writeHead(status, { ...headers, "content-length": out.length });
      res.end(out);
      finish(status >= 400 ? outcomeOf(status) : "success", status >= 400 ? dockerMessage(text.slice(-ERROR_SNIPPET_BYTES)) : null);
    },
    () => {
      res.destroy();
      finish("error", "the agent's answer broke off");
    },
  );
}
