import "server-only";
import type http from "node:http";
import type { Duplex } from "node:stream";
import type { AuditOutcome, RequestMeta } from "../audit/types";
import type { Db } from "../db";
import type { Admission } from "../pipeline/admission";
import type { AuditTrail } from "../pipeline/audit-log";
import type { HostRow } from "../pipeline/authorise";
import type { TokenPipeline } from "../pipeline/token-pipeline";
import type { TokenViewer } from "../tokens/viewer-for-token";
import type { Confinement } from "../../lib/confinement";
import type { EndpointMatch } from "./endpoints";
import type { ExecOwners } from "./exec-owners";
import type { ProxyPath } from "./paths";

// What the proxy's modules share: the proxy's own state (built once by
// createDockerProxy) and a request that passed approval.

/** What the proxy needs of the fleet: a byte stream to a host's agent. */
export interface ProxyFleet {
  connection(hostId: string): { openAgentStream(): Promise<Duplex> };
}

/** An open stream (plain or hijacked), ended on shutdown. */
export interface LiveStream {
  close(): void;
  /** Resolves once its end is on record. */
  done: Promise<void>;
}

export interface ProxyContext {
  db: () => Db;
  fleet: () => Promise<{ fleet: ProxyFleet }>;
  log: (line: string) => void;
  maxBodyBytes: number;
  /** authenticate → limit, for every request (server/pipeline/token-pipeline.ts). */
  pipeline: TokenPipeline;
  /** A host by id or name, remembered ≤ 1 s. */
  findHost: (ref: string) => Promise<HostRow | null>;
  /** Exec id → who created it through the proxy, and on which host. */
  execOwners: ExecOwners;
  /** Forwarded plain requests still open (logs -f, events, pull progress, wait…). */
  streams: Set<LiveStream>;
  /** Hijacked sessions (attach, exec start). */
  hijacked: Set<LiveStream>;
  /** The request headers of an upgraded socket, for forwarding (set in handleUpgrade). */
  requestHeadersOf: WeakMap<Duplex, http.IncomingHttpHeaders>;
  /** Shutting down: nothing new is forwarded. */
  closing(): boolean;
}

/** A request that passed authentication, the path, the endpoint table and the permission check. */
export interface Approved {
  admission: Admission<TokenViewer>;
  meta: RequestMeta;
  viewer: TokenViewer;
  host: HostRow;
  path: ProxyPath;
  /** The request target sent to the agent: checked to route exactly as `path` and `query` were judged. */
  agentPath: string;
  query: URLSearchParams;
  match: EndpointMatch;
  /** Audit params: method, endpoint, and what the call asks for. */
  params: Record<string, unknown>;
  target: { type: string; id: string | null } | null;
  /** The mutation's trail: its intent is on record before it is forwarded. */
  trail: AuditTrail;
  /** A create's limits from the deploy policy, sent to the agent with it. */
  confinement?: Confinement;
}

/** Records the outcome of the approved call under its endpoint's action (a failed write is logged). */
export function recordCall(a: Approved, outcome: AuditOutcome, errorMessage: string | null, extra: Record<string, unknown> = {}): Promise<void> {
  return a.admission.record({ action: a.match.endpoint.action, outcome, params: { ...a.params, ...extra }, errorMessage, hostId: a.host.id, target: a.target });
}
