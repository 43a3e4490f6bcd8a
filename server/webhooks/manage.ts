import "server-only";
import { canOnHost, type Viewer } from "../auth/access";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { Webhook } from "../generated/prisma/client";
import { mayUseHost } from "../pipeline/authorise";
import type { SecretBox } from "../secrets/cipher";
import { isTokenViewer } from "../tokens/viewer-for-token";
import type { WebhookCreated, WebhookView } from "../../lib/rollouts/views";
import { MAX_SOURCE_BLOCKS, parseAddressBlock, tagPatternProblem } from "./rules";
import { generateWebhookSecret, hashWebhookSecret, SIGNATURE_HEADER, SIGNING_KEY_PURPOSE, webhookDisplayPrefix } from "./secret";
import { DEPLOY_PERMISSION, type HookTarget, loadTarget, READ_PERMISSION, type TargetKind, targetOf } from "./targets";

// Creating, listing and revoking deploy webhooks (the tRPC router and REST
// call these). A webhook belongs to a deployment or a stack; creating one
// needs the deploy permission on its host (and deploys.approve for
// "pre-approved"); its secret is answered once and never again.

export interface CreateWebhookInput {
  deploymentId?: string;
  stackId?: string;
  name: string;
  tagPattern: string | null;
  sourceCidrs: string[];
  expiresInDays: number | null;
  preApproved: boolean;
}

/** What the audit record of a management call notes (the procedure's ctx.audit). */
export interface AuditNoteLike {
  target?: { type: string; id?: string | null } | null;
  hostId?: string | null;
}

/** Where the webhook URLs point: the console's public origin. */
export function hookUrls(origin: string, secret: string | null, webhookId: string) {
  const base = `${origin.replace(/\/+$/, "")}/api/hooks`;
  return {
    url: secret ? `${base}/${secret}` : null,
    statusUrlTemplate: secret ? `${base}/${secret}/rollouts/{rolloutId}` : null,
    signedUrl: `${base}/signed/${webhookId}`,
  };
}

export function webhookView(w: Webhook, createdBy: string | null): WebhookView {
  const target = targetOf(w);
  return {
    id: w.id,
    name: w.name,
    prefix: w.prefix,
    target: target ? { kind: target.kind, id: target.id } : { kind: "deployment", id: "" },
    tagPattern: w.tagPattern,
    sourceCidrs: w.sourceCidrs,
    preApproved: w.preApproved,
    expiresAt: w.expiresAt,
    revokedAt: w.revokedAt,
    lastUsedAt: w.lastUsedAt,
    lastUsedIp: w.lastUsedIp,
    createdAt: w.createdAt,
    createdBy,
  };
}

function targetRef(input: { deploymentId?: string; stackId?: string }): { kind: TargetKind; id: string } {
  if (input.deploymentId && input.stackId) throw new AppError("BAD_REQUEST", "Name a deployment or a stack, not both.");
  if (input.deploymentId) return { kind: "deployment", id: input.deploymentId };
  if (input.stackId) return { kind: "stack", id: input.stackId };
  throw new AppError("BAD_REQUEST", "Name the deployment (deploymentId) or the stack (stackId) the webhook deploys.");
}

const WHAT: Record<TargetKind, string> = { deployment: "deployment", stack: "stack" };

/**
 * The target, if the viewer may `permission` on its host. One on a host
 * outside the viewer's scope is answered as if it didn't exist (NOT_FOUND).
 */
async function targetFor(db: Db, viewer: Viewer, ref: { kind: TargetKind; id: string }, permission: "deploy" | "read", note?: AuditNoteLike): Promise<HookTarget> {
  const target = await loadTarget(db, ref);
  if (note && target) note.hostId = target.host.id;
  if (!target || !mayUseHost(viewer, target.host)) throw new AppError("NOT_FOUND", `No such ${WHAT[ref.kind]}.`);
  const wanted = (permission === "deploy" ? DEPLOY_PERMISSION : READ_PERMISSION)[ref.kind];
  if (!canOnHost(viewer, wanted, target.host)) throw new AppError("FORBIDDEN", `You need the ${wanted} permission on host ${target.host.name}.`);
  return target;
}

/** The source blocks, validated and written canonically ("10.0.0.0/8"); every problem named at once. */
export function normaliseSourceBlocks(blocks: readonly string[]): string[] {
  if (blocks.length > MAX_SOURCE_BLOCKS) throw new AppError("BAD_REQUEST", `At most ${MAX_SOURCE_BLOCKS} source addresses or blocks.`);
  const problems: string[] = [];
  const out: string[] = [];
  for (const b of blocks) {
    const parsed = parseAddressBlock(b);
    if (parsed.ok) {
      if (!out.includes(parsed.canonical)) out.push(parsed.canonical);
    } else problems.push(parsed.problem);
  }
  if (problems.length) throw new AppError("BAD_REQUEST", `Invalid source addresses: ${problems.join("; ")}.`);
  return out;
}

export interface CreateWebhookDeps {
  db: Db;
  /** The secret box, asked for only once every check passed (a mutation's intent is recorded when it is). */
  box: () => Promise<SecretBox>;
  viewer: Viewer;
  /** The console's public origin, for the URLs. */
  origin: string;
  note?: AuditNoteLike;
}

export async function createWebhook(deps: CreateWebhookDeps, input: CreateWebhookInput): Promise<WebhookCreated> {
  const { db, viewer } = deps;
  const name = input.name.trim();
  if (!name) throw new AppError("BAD_REQUEST", "Give the webhook a name.");
  const tagPattern = input.tagPattern?.trim() || null;
  if (tagPattern) {
    const problem = tagPatternProblem(tagPattern);
    if (problem) throw new AppError("BAD_REQUEST", `Invalid tag pattern: ${problem}.`);
  }
  const sourceCidrs = normaliseSourceBlocks(input.sourceCidrs);
  const target = await targetFor(db, viewer, targetRef(input), "deploy", deps.note);
  if (input.preApproved && !canOnHost(viewer, "deploys.approve", target.host)) {
    throw new AppError("FORBIDDEN", `Only someone holding deploys.approve on host ${target.host.name} may make a pre-approved webhook.`);
  }
  const box = await deps.box();
  const secret = generateWebhookSecret();
  const row = await db.webhook.create({
    data: {
      hostId: target.host.id,
      deploymentId: target.kind === "deployment" ? target.id : null,
      stackId: target.kind === "stack" ? target.id : null,
      name: name.slice(0, 100),
      prefix: webhookDisplayPrefix(secret),
      hash: hashWebhookSecret(secret),
      signingKey: box.seal(secret, SIGNING_KEY_PURPOSE),
      tagPattern,
      sourceCidrs,
      preApproved: input.preApproved,
      createdById: viewer.user.id,
      tokenId: isTokenViewer(viewer) ? viewer.token.id : null,
      expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
    },
  });
  if (deps.note) deps.note.target = { type: "webhook", id: row.id };
  const urls = hookUrls(deps.origin, secret, row.id);
  return {
    webhook: webhookView(row, viewer.user.email),
    secret,
    url: urls.url!,
    statusUrlTemplate: urls.statusUrlTemplate!,
    signatureHeader: SIGNATURE_HEADER,
    signedUrl: urls.signedUrl,
  };
}

export async function listWebhooks(deps: { db: Db; viewer: Viewer; note?: AuditNoteLike }, input: { deploymentId?: string; stackId?: string }): Promise<WebhookView[]> {
  const target = await targetFor(deps.db, deps.viewer, targetRef(input), "read", deps.note);
  const rows = await deps.db.webhook.findMany({
    where: target.kind === "deployment" ? { deploymentId: target.id } : { stackId: target.id },
    orderBy: { createdAt: "desc" },
    take: 200,
  });
  const creators = await deps.db.user.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.createdById))] } }, select: { id: true, email: true } });
  const email = new Map(creators.map((c) => [c.id, c.email]));
  return rows.map((r) => webhookView(r, email.get(r.createdById) ?? null));
}

export async function revokeWebhook(deps: { db: Db; viewer: Viewer; note?: AuditNoteLike }, input: { id: string }): Promise<{ ok: true }> {
  const row = await deps.db.webhook.findUnique({ where: { id: input.id } });
  const ref = row ? targetOf(row) : null;
  if (deps.note) deps.note.target = { type: "webhook", id: input.id };
  if (!row || !ref) throw new AppError("NOT_FOUND", "No such webhook.");
  if (deps.note) deps.note.hostId = row.hostId;
  const host = await deps.db.host.findUnique({ where: { id: row.hostId }, select: { id: true, name: true, hostGroupId: true } });
  if (!host || !mayUseHost(deps.viewer, host)) throw new AppError("NOT_FOUND", "No such webhook.");
  const wanted = DEPLOY_PERMISSION[ref.kind];
  if (!canOnHost(deps.viewer, wanted, host)) throw new AppError("FORBIDDEN", `You need the ${wanted} permission on host ${host.name}.`);
  // Revoking twice keeps the first time.
  if (!row.revokedAt) await deps.db.webhook.updateMany({ where: { id: row.id, revokedAt: null }, data: { revokedAt: new Date() } });
  return { ok: true };
}
