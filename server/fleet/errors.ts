import "server-only";
// What can go wrong between the gateway and a host, each with a message a user can act on.
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

export class FleetError extends Error {
  constructor(
    readonly code: FleetErrorCode,
    message: string,
    readonly details: { presentedFingerprint?: string; status?: number } = {},
  ) {
    super(message);
    this.name = "FleetError";
  }
}

// By name, not instanceof: the gateway's entry point and Next's server bundle each load their own copy of this module.
export const isFleetError = (e: unknown): e is FleetError =>
  e instanceof Error && e.name === "FleetError" && typeof (e as { code?: unknown }).code === "string";
