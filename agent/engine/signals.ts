import { constants } from "node:os";
import { EngineError } from "./errors";

/** "SIGTERM", "TERM", "15" → 15. Unknown names are a clear 400. */
export function signalNumber(signal: string | number): number {
  if (typeof signal === "number") {
    if (!Number.isInteger(signal) || signal < 1 || signal > 64) throw new EngineError("INVALID", `invalid signal: ${signal}`);
    return signal;
  }
  const s = signal.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new EngineError("INVALID", `invalid signal: ${signal}`);
    return n;
  }
  const name = (s.startsWith("SIG") ? s : `SIG${s}`) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) throw new EngineError("INVALID", `invalid signal: ${signal}`);
  return n;
}
