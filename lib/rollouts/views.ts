// What the console and the API see of continuous delivery: rollouts,
// deployments, webhooks, watches and approvals. The routers (server/routers
// rollouts, deployments, webhooks, watches, approvals) return these shapes;
// the REST API answers the same fields. Dates are Date objects through tRPC
// (superjson) and ISO strings over REST.

export type RolloutTriggerName = "form" | "api" | "webhook" | "watcher" | "rollback";
export type RolloutStatusName =
  | "awaitingApproval"
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "superseded"
  | "rejected"
  | "expired"
  | "cancelled";

export type RolloutTargetView = { kind: "deployment"; id: string; name: string } | { kind: "stack"; id: string; name: string };

export interface RolloutView {
  id: string;
  hostId: string;
  hostName: string;
  target: RolloutTargetView;
  /** A stack's services the rollout changes. */
  services: string[];
  trigger: RolloutTriggerName;
  actor: { type: string; id: string | null; label: string | null };
  status: RolloutStatusName;
  imageRef: string | null;
  digestBefore: string | null;
  digestAfter: string | null;
  /** A stack's per-service digests. */
  digests: Record<string, { before: string | null; after: string | null }>;
  /** start-first or stop-first. */
  strategy: string | null;
  reason: string | null;
  approvedBy: string | null;
  rollbackOfId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  /** Whether "Roll back to this version" can be offered (a succeeded rollout with a digest to go back to). */
  canRollback: boolean;
}

export interface RolloutStepView {
  at: string;
  phase: string;
  message: string;
}

export interface SpecChangeView {
  path: string;
  before: unknown;
  after: unknown;
}

export interface RolloutDetail extends RolloutView {
  steps: RolloutStepView[];
  specDiff: SpecChangeView[];
  verdict: { allowed: boolean; violations: unknown[]; overridden: unknown[] } | null;
  logTail: string | null;
  approval: ApprovalSummary | null;
}

export interface RolloutCounts {
  running: number;
  queued: number;
  awaitingApproval: number;
  /** Failed in the last 24 hours. */
  failed: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface DeploymentView {
  id: string;
  hostId: string;
  hostName: string;
  name: string;
  image: string;
  status: string;
  message: string | null;
  containerId: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastRollout: RolloutView | null;
}

export interface WebhookView {
  id: string;
  name: string;
  /** The first characters of the secret, to tell webhooks apart. */
  prefix: string;
  target: { kind: "deployment" | "stack"; id: string };
  tagPattern: string | null;
  sourceCidrs: string[];
  preApproved: boolean;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  createdAt: Date;
  createdBy: string | null;
}

/** Answered once, at creation: the secret is never shown again. */
export interface WebhookCreated {
  webhook: WebhookView;
  secret: string;
  /** POST here (the secret is in it). */
  url: string;
  /** GET this with {rolloutId} replaced to follow a rollout the call started. */
  statusUrlTemplate: string;
  /** For signed callbacks: the header carrying "sha256=<hex HMAC of the body with the secret>". */
  signatureHeader: string;
  /** For signed callbacks: the URL without the secret. */
  signedUrl: string;
}

export interface MaintenanceWindow {
  /** 0 = Sunday … 6 = Saturday; empty: every day. */
  days: number[];
  /** "HH:MM", 24-hour. */
  start: string;
  end: string;
  /** An IANA time zone ("UTC", "Europe/Berlin"). */
  timeZone: string;
}

export interface WatchView {
  id: string;
  target: { kind: "deployment" | "stack"; id: string; service: string };
  enabled: boolean;
  intervalSeconds: number;
  minAgeSeconds: number;
  window: MaintenanceWindow | null;
  preApproved: boolean;
  /** The tag followed (the running spec's reference). */
  reference: string;
  /** The digest running now, and the tag's newest one seen. */
  currentDigest: string | null;
  seenDigest: string | null;
  seenAt: Date | null;
  updateAvailable: boolean;
  lastCheckedAt: Date | null;
  lastError: string | null;
  nextCheckAt: Date;
  /** Why the watch is (or isn't) rolling out the tag's newest digest. */
  state: WatchState;
}

export interface WatchState {
  kind: "disabled" | "unchecked" | "error" | "upToDate" | "waitingForAge" | "outsideWindow" | "due" | "rolloutRequested" | "refused";
  message: string;
  /** waitingForAge: when it is old enough; outsideWindow: when the window next opens; due: the next check. */
  until: Date | null;
  /** rolloutRequested: the watcher's rollout of the seen digest. */
  rolloutId: string | null;
}

export type ApprovalStatusName = "waiting" | "approved" | "rejected" | "expired" | "cancelled";

export interface ApprovalSummary {
  id: string;
  status: ApprovalStatusName;
  requestedLabel: string | null;
  decidedLabel: string | null;
  decidedAt: Date | null;
  comment: string | null;
  runAt: Date | null;
  expiresAt: Date;
}

export interface ApprovalView extends ApprovalSummary {
  rolloutId: string;
  requestedById: string | null;
  createdAt: Date;
  /** Whether the viewer may decide it (holds deploys.approve on the host and isn't the requester; still waiting). */
  canDecide: boolean;
  rollout: RolloutDetail;
}

export interface ApprovalRuleView {
  id: string;
  scope: { kind: "host"; id: string; name: string } | { kind: "hostGroup"; id: string; name: string };
  expiryHours: number;
  createdAt: Date;
}
