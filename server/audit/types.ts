import "server-only";
export type ActorType = "user" | "token" | "webhook" | "system" | "anonymous";
export type AuditOutcome = "success" | "denied" | "error";

export interface Actor {
  type: ActorType;
  id?: string | null;
  /** A readable name at the time of the event (an email, a token name). */
  label?: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: "system", id: null, label: "system" };
export const ANONYMOUS_ACTOR: Actor = { type: "anonymous", id: null, label: null };

/** Where a request came from. Set by the gateway's HTTP server, never by the client. */
export interface RequestMeta {
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditInput {
  actor: Actor;
  action: string;
  outcome: AuditOutcome;
  target?: { type: string; id?: string | null } | null;
  hostId?: string | null;
  params?: unknown;
  errorMessage?: string | null;
  request?: RequestMeta | null;
}
