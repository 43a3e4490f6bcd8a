import "server-only";
import { AppError, type AppErrorCode } from "../errors";
import type { FleetError, FleetErrorCode } from "./errors";

const CODES: Record<FleetErrorCode, AppErrorCode> = {
  UNREACHABLE: "UNAVAILABLE",
  TIMEOUT: "TIMEOUT",
  AUTH_REFUSED: "PRECONDITION_FAILED",
  BAD_CREDENTIAL: "BAD_REQUEST",
  HOST_KEY_CHANGED: "CONFLICT",
  NOT_LINUX: "PRECONDITION_FAILED",
  AGENT_UNREACHABLE: "UNAVAILABLE",
  AGENT_ERROR: "BAD_REQUEST",
  INSTALL_FAILED: "PRECONDITION_FAILED",
};

export function fleetToAppError(e: FleetError): AppError {
  // The agent's own 404/409 keep their meaning.
  if (e.code === "AGENT_ERROR" && e.details.status === 404) return new AppError("NOT_FOUND", e.message, { cause: e });
  if (e.code === "AGENT_ERROR" && e.details.status === 409) return new AppError("CONFLICT", e.message, { cause: e });
  if (e.code === "AGENT_ERROR" && (e.details.status ?? 0) >= 500) return new AppError("UNAVAILABLE", e.message, { cause: e });
  return new AppError(CODES[e.code], e.message, { cause: e });
}
