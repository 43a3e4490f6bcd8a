import { AgentError } from "../errors";

// The container engine's errors: AgentErrors with the codes the engine uses.
// The Docker API maps them to statuses in one place (api/errors.ts); the
// engine never sees HTTP.
export type EngineErrorCode = "INVALID" | "NOT_FOUND" | "CONFLICT" | "NOT_MODIFIED" | "FORBIDDEN" | "RUNTIME" | "INTERNAL";

export class EngineError extends AgentError<EngineErrorCode> {
  override name = "EngineError";
}
