import { CreateRequestError, parseSignal } from "../../lib/docker/create-request";
import { EngineError } from "./errors";

/**
 * "SIGTERM", "TERM", "15", "RTMIN+1" → a signal number (1–64). The names are
 * create-request's parseSignal (moby's table); unknown ones are a clear 400.
 */
export function signalNumber(signal: string | number): number {
  const text = String(signal).trim();
  let n: number;
  try {
    n = parseSignal(text);
  } catch (e) {
    if (e instanceof CreateRequestError) throw new EngineError("INVALID", `invalid signal: ${signal}`);
    throw e;
  }
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new EngineError("INVALID", `invalid signal: ${signal}`);
  return n;
}
