import "server-only";
import { AppError, type AppErrorDetails } from "../../lib/app-error";

// What can go wrong between the gateway and a host, each with a message a user
// can act on. An AppError whose code says what failed on the way to the host;
// boundaries turn it into a gateway code with fleetToAppError (app-errors.ts).
export type FleetErrorCode =
  | "UNREACHABLE"
  | "TIMEOUT"
  | "AUTH_REFUSED"
  | "BAD_CREDENTIAL"
  | "HOST_KEY_CHANGED"
  | "NOT_LINUX"
  | "AGENT_UNREACHABLE"
  | "AGENT_ERROR"
  | "INSTALL_FAILED";

/** What a FleetError may carry: the agent's HTTP status, the host's name, the key it presented. */
export type FleetErrorDetails = Pick<AppErrorDetails, "status" | "host" | "presentedFingerprint">;

export class FleetError extends AppError<FleetErrorCode> {
  declare readonly details: FleetErrorDetails;

  constructor(code: FleetErrorCode, message: string, details: FleetErrorDetails = {}) {
    super(code, message, { details });
    this.name = "FleetError";
  }
}

// By name, not instanceof: the gateway's entry point and Next's server bundle each load their own copy of this module.
export const isFleetError = (e: unknown): e is FleetError =>
  e instanceof Error && e.name === "FleetError" && typeof (e as { code?: unknown }).code === "string";
