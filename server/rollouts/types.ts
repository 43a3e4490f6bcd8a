import "server-only";
import type { Actor } from "../audit/types";
import type { Viewer } from "../auth/access";
import type { DeploySpec } from "../../lib/deploy/spec";

// The contract between what asks for a rollout (the deploy form and REST
// update, a webhook, the registry watcher, a rollback, an approval) and the
// engine that runs it (server/rollouts/engine.ts). A request becomes a
// Rollout row at once; the row is the queue, the approval's subject and the
// timeline entry.

export const ROLLOUT_TRIGGERS = ["form", "api", "webhook", "watcher", "rollback"] as const;
export type RolloutTrigger = (typeof ROLLOUT_TRIGGERS)[number];

export const ROLLOUT_STATUSES = [
  "awaitingApproval",
  "queued",
  "running",
  "succeeded",
  "failed",
  "superseded",
  "rejected",
  "expired",
  "cancelled",
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** Statuses a rollout can't leave. */
export const FINISHED_STATUSES: readonly RolloutStatus[] = ["succeeded", "failed", "superseded", "rejected", "expired", "cancelled"];

export type RolloutTarget = { kind: "deployment"; deploymentId: string } | { kind: "stack"; stackId: string; services?: string[] };

/** Who asked: a person (form/API), or a webhook or watch acting for its creator. */
export interface RolloutRequester {
  /** The audit actor (a user, a token, a webhook, the watcher as system). */
  actor: Actor;
  /**
   * The viewer whose rights the rollout runs with: the user, or the webhook's
   * or watch's creator as they are now (loaded again when it runs; a creator
   * who lost the right makes it fail closed).
   */
  viewer: Viewer;
  webhookId?: string | null;
  /** A webhook or watch made "pre-approved" by an approver: skips approval. */
  preApproved?: boolean;
}

export interface RolloutRequest {
  target: RolloutTarget;
  /**
   * "repo:tag" or "repo@sha256:…" of the same repository as the running
   * image (a webhook can't swap the image for another); null: the saved
   * spec's reference, pulled again (an update).
   */
  image?: string | null;
  /** Deployment only: an edited spec (the form's "update with changes"). */
  spec?: DeploySpec;
  trigger: RolloutTrigger;
  requester: RolloutRequester;
  /** The form's "override policy" (honoured only for a viewer who may override). */
  override?: boolean;
  /** A rollback: the rollout whose version to go back to. */
  rollbackOfId?: string | null;
  /** The console's token for live progress (server/services/operations/progress). */
  progressToken?: string;
}

export interface RolloutAccepted {
  rolloutId: string;
  /** "awaitingApproval" when an approver must decide first, else "queued". */
  status: RolloutStatus;
}

/** One line of a rollout's timeline (Rollout.steps). */
export interface RolloutStep {
  at: string;
  phase: "queued" | "approval" | "pull" | "policy" | "create" | "start" | "gate" | "switch" | "stop" | "rollback" | "done" | "error";
  message: string;
}

/** One change a rollout makes (Rollout.specDiff). */
export interface SpecChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** What the engine's request step works out for a target before it is queued (or sent for approval). */
export interface RolloutPlan {
  hostId: string;
  hostGroupId: string | null;
  deploymentId?: string;
  stackId?: string;
  services?: string[];
  imageRef?: string | null;
  digestBefore?: string | null;
  digests?: Record<string, { before: string | null; after: string | null }>;
  /** Sealed as Deployment.spec is. */
  specBefore?: unknown;
  specAfter?: unknown;
  versionBefore?: number | null;
  specDiff: SpecChange[];
  /** The policy verdict on the request, shown with the approval. */
  verdict?: { allowed: boolean; violations: unknown[]; overridden: unknown[] } | null;
}

/** What the worker hands the runner of one claimed rollout. */
export interface RunContext {
  db: import("../db").Db;
  services: import("../fleet/instance").FleetServices;
  /** The claimed Rollout row. */
  rollout: import("../generated/prisma/client").Rollout;
  /** The requester's viewer loaded again now (its rights when it runs). */
  viewer: Viewer;
  /** Appends a line to the timeline (and the live progress). */
  /** `detail`: what the console's live progress shows besides (the stack service a step is about). */
  step(phase: RolloutStep["phase"], message: string, detail?: { service?: string }): Promise<void>;
  signal: AbortSignal;
}

export interface RunOutcome {
  ok: boolean;
  reason?: string | null;
  logTail?: string | null;
  strategy?: string | null;
  digestAfter?: string | null;
  digests?: Record<string, { before: string | null; after: string | null }>;
  versionAfter?: number | null;
}
