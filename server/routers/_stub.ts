import "server-only";
import { AppError } from "../errors";

/** CONTRACT STUB helper: a procedure whose body its owner hasn't written yet. Delete with the last stub. */
export function notBuilt(): never {
  throw new AppError("INTERNAL", "Not built yet.");
}
