import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * For a request refused before its body was read (401, 403, 429, …): the
 * answer says `connection: close`, and at most `capBytes` of the body are
 * read and thrown away (so a client still sending can read the answer), for
 * at most `timeoutMs`; past either the connection is destroyed. An
 * unauthenticated client can't make the gateway read a body forever.
 */
export function drainRefused(req: IncomingMessage, res: ServerResponse, capBytes: number, timeoutMs = 10_000): void {
  if (req.complete) return;
  if (!res.headersSent) res.setHeader("connection", "close");
  let seen = 0;
  let stopped = false;
  const cleanup = () => {
    clearTimeout(timer);
    req.off("data", onData);
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    cleanup();
    req.pause();
    // The answer goes out first (it is small and already queued), then the connection.
    if (res.writableFinished || res.destroyed) req.destroy();
    else {
      res.once("finish", () => req.destroy());
      res.once("close", () => req.destroy());
    }
  };
  const onData = (c: Buffer) => {
    seen += c.length;
    if (seen > capBytes) stop();
  };
  const timer = setTimeout(stop, timeoutMs);
  timer.unref?.();
  req.on("data", onData);
  req.once("end", cleanup);
  req.once("close", cleanup);
  req.once("error", () => {});
  req.resume();
}
