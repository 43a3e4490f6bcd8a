import "server-only";
import type { Actor, RequestMeta } from "../audit/types";
import type { Viewer } from "../auth/access";
import { viewerForCreator } from "../tokens/viewer-for-token";
import type { Db } from "../db";
import type { Webhook } from "../generated/prisma/client";
import type { Admission } from "../pipeline/admission";
import { type CredentialCheck, type CredentialPipeline, createCredentialPipeline } from "../pipeline/credential-pipeline";
import type { SecretBox } from "../secrets/cipher";
import { addressAllowed } from "./rules";
import { checkSignature, hashWebhookSecret, isWebhookSecret, SIGNATURE_HEADER, SIGNING_KEY_PURPOSE, webhookDisplayPrefix } from "./secret";

// Deploy webhooks through the one credential pipeline
// (server/pipeline/credential-pipeline.ts): authenticate → limit, then the
// Admission's authorise and audit steps in deliver.ts. The credential is the
// secret in the URL, or a signed callback's HMAC (the webhook named by id,
// the signature checked against the sealed key over the raw body). A webhook
// acts as itself in the audit log ({type: "webhook"}) with its creator's
// rights as they are now: a creator who is disabled or gone fails closed.

/** Calls per webhook (CI calls and status polls): bursts of 20, then 2 a second. */
export const WEBHOOK_RATE = { perSecond: 2, burst: 20 } as const;
/** Failed authentications per address: audited one by one up to the burst, then summarised; past it the address is answered 429 until it slows down. */
export const WEBHOOK_FAILURE_RATE = { perSecond: 1, burst: 20 } as const;

export type HookCredential =
  | { kind: "secret"; secret: string }
  | { kind: "signed"; webhookId: string; signature: string | null; body: Uint8Array; box: () => Promise<SecretBox> };

/** A webhook's viewer: its creator's grants, named in audit records as the webhook. */
export interface WebhookViewer extends Viewer {
  actor: Actor;
  webhook: Webhook;
}

export function webhookActor(w: Pick<Webhook, "id" | "name">): Actor {
  return { type: "webhook", id: w.id, label: w.name };
}

const WEBHOOK_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** How often lastUsedAt/lastUsedIp are written at most, per webhook. */
const LAST_USED_EVERY_MS = 10_000;

async function authenticateHook(db: Db, c: HookCredential, meta: RequestMeta): Promise<CredentialCheck<WebhookViewer>> {
  const unknown = (reason: string, params: Record<string, unknown> = {}): CredentialCheck<WebhookViewer> => ({
    ok: false,
    actor: null,
    reason,
    message: c.kind === "secret" ? "Unknown webhook: check the URL (the secret is shown once, when the webhook is created)." : "Unknown webhook.",
    params,
  });
  let hook: Webhook | null;
  if (c.kind === "secret") {
    if (!isWebhookSecret(c.secret)) return unknown("malformed webhook secret");
    hook = await db.webhook.findUnique({ where: { hash: hashWebhookSecret(c.secret) } });
    if (!hook) return unknown("unknown webhook secret", { prefix: webhookDisplayPrefix(c.secret) });
  } else {
    if (!WEBHOOK_ID.test(c.webhookId)) return unknown("malformed webhook id");
    hook = await db.webhook.findUnique({ where: { id: c.webhookId } });
    if (!hook) return unknown("unknown webhook id", { webhookId: c.webhookId });
    // The signature first: without it the caller has proved nothing, so it learns nothing (revoked, expired, …).
    let key: string | null = null;
    try {
      key = (await c.box()).open(hook.signingKey, SIGNING_KEY_PURPOSE);
    } catch {
      key = null;
    }
    const check = key ? checkSignature(key, c.body, c.signature) : ({ ok: false, reason: "mismatch" } as const);
    if (!check.ok) {
      const why = { missing: `no ${SIGNATURE_HEADER} header`, malformed: `a malformed ${SIGNATURE_HEADER} header (expected sha256=<64 hex digits>)`, mismatch: "a signature that doesn't match the body" }[check.reason];
      return {
        ok: false,
        actor: null,
        reason: `bad signature: ${why}`,
        message: `Bad signature: ${why}. Sign the raw body with HMAC-SHA256 and the webhook's secret, and send ${SIGNATURE_HEADER}: sha256=<hex>.`,
        params: { webhookId: hook.id },
      };
    }
  }
  const actor = webhookActor(hook);
  const refuse = (reason: string, message: string, code?: "FORBIDDEN"): CredentialCheck<WebhookViewer> => ({ ok: false, code, actor, reason, message, params: { webhookId: hook.id } });
  if (hook.revokedAt) return refuse("webhook revoked", "This webhook has been revoked.");
  if (hook.expiresAt && hook.expiresAt.getTime() <= Date.now()) return refuse("webhook expired", `This webhook expired on ${hook.expiresAt.toISOString()}.`);
  if (!addressAllowed(hook.sourceCidrs, meta.ip)) {
    return refuse(`source address ${meta.ip ?? "unknown"} not allowed`, `Calls to this webhook are not accepted from ${meta.ip ?? "this address"}.`, "FORBIDDEN");
  }
  const creator = await viewerForCreator(db, { userId: hook.createdById, tokenId: hook.tokenId });
  if (!creator) {
    const why = hook.tokenId ? "the API token it was made through is revoked or expired, or its creator is disabled" : "its creator is disabled or no longer exists";
    return refuse(`creator unavailable: ${why}`, `This webhook acts for its creator, and ${why}; it is refused.`, "FORBIDDEN");
  }
  await recordUse(db, hook, meta);
  return { ok: true, viewer: { ...creator, actor, webhook: hook }, rateKey: `webhook:${hook.id}` };
}

/** At most one write per webhook every few seconds: the row says roughly when and from where it was last called. */
async function recordUse(db: Db, hook: Webhook, meta: RequestMeta): Promise<void> {
  const cutoff = new Date(Date.now() - LAST_USED_EVERY_MS);
  if (hook.lastUsedAt && hook.lastUsedAt > cutoff && hook.lastUsedIp === (meta.ip ?? null)) return;
  await db.webhook
    .updateMany({ where: { id: hook.id }, data: { lastUsedAt: new Date(), lastUsedIp: meta.ip ?? null } })
    .catch((e: unknown) => console.error(`[berth] webhook ${hook.id}: recording last use failed:`, e instanceof Error ? e.message : e));
}

export type HookPipeline = CredentialPipeline<HookCredential, WebhookViewer>;

export function createHookPipeline(o: { db: () => Db; log: (line: string) => void; rate?: { perSecond: number; burst: number } }): HookPipeline {
  return createCredentialPipeline<HookCredential, WebhookViewer>({
    db: o.db,
    log: o.log,
    rate: o.rate ?? WEBHOOK_RATE,
    authFailureRate: WEBHOOK_FAILURE_RATE,
    // Secrets are unguessable; an address that keeps guessing is stopped before it reaches the database.
    blockFloods: true,
    wording: {
      tooManyRequests: (s) => `Too many calls to this webhook; retry in ${s} s.`,
      rateLimitAudit: (refused) => `rate limit: ${o.rate?.perSecond ?? WEBHOOK_RATE.perSecond} calls a second, bursts of ${o.rate?.burst ?? WEBHOOK_RATE.burst} (${refused} refused since the last record)`,
      tooManyFailures: (s) => `Too many failed webhook calls from this address; retry in ${s} s.`,
    },
    authenticate: (c, meta) => authenticateHook(o.db(), c, meta),
  });
}

export type HookAdmission = Admission<WebhookViewer>;
