import "server-only";
import type { RequestMeta } from "../audit/types";
import { canOnHost } from "../auth/access";
import { requestMetaFrom } from "../auth/request-meta";
import { db as defaultDb, type Db } from "../db";
import { AppError, type AppErrorCode, isAppError, isDenialCode, toAppError } from "../errors";
import type { FleetServices } from "../fleet/instance";
import type { Rollout } from "../generated/prisma/client";
import { env } from "../env";
import { jsonDepthProblem } from "../http/json-depth";
import { publicOrigin } from "../http/same-origin";
import { HTTP_STATUS } from "../http/status";
import { isAudited, recordSafely } from "../pipeline/audit-log";
import { requestRollout, waitForRollout } from "../rollouts/engine";
import { FINISHED_STATUSES, type RolloutStatus } from "../rollouts/types";
import { formatReference, parseReference, type ImageReference } from "../../lib/image-reference";
import { ENVELOPE_MEDIA_TYPE, latestPush, mediaTypeOf, parseEnvelope, type PushEvent, type SkippedEvent } from "./envelope";
import { type HookAdmission, type HookCredential, type HookPipeline, createHookPipeline } from "./pipeline";
import { matchesTagPattern } from "./rules";
import { SIGNATURE_HEADER, webhookDisplayPrefix } from "./secret";
import { DEPLOY_PERMISSION, type HookTarget, imageForRepositoryPath, loadTarget, sameRepository, targetOf } from "./targets";

// The webhook endpoints (app/api/hooks/[...path]/route.ts):
//
//   POST /api/hooks/<secret>                       optional {"image": "repo:tag"|"repo@sha256:…"}, or a registry's envelope
//   GET  /api/hooks/<secret>/rollouts/<rolloutId>  a rollout this webhook started
//   POST /api/hooks/signed/<webhookId>             a registry notification envelope, signed (X-Berth-Signature-256)
//
// Every call: read the body (capped) → the credential pipeline (authenticate
// the secret or the signature, limit per webhook, refusals per address) →
// authorise (the creator's deploy permission on the target's host, now) →
// what is asked (content type, body, repository, tag pattern) → audit intent
// → request the rollout (trigger "webhook") → audit outcome → 202, or with
// ?wait=true the rollout's end. Every refusal is a JSON error, audited, and
// nothing is requested.

/** The largest body a call may send: an {"image"} or an envelope of a few events. */
export const MAX_HOOK_BODY_BYTES = 64 * 1024;
/** ?wait=true waits at most this long (?timeout=<seconds> may ask for less); then 202 with the state so far. */
export const MAX_WAIT_SECONDS = 600;
export const DEFAULT_WAIT_SECONDS = 300;

type HookErrorCode = AppErrorCode | "UNSUPPORTED_MEDIA_TYPE" | "UNPROCESSABLE" | "METHOD_NOT_ALLOWED";
const STATUS: Record<HookErrorCode, number> = { ...HTTP_STATUS, UNSUPPORTED_MEDIA_TYPE: 415, UNPROCESSABLE: 422, METHOD_NOT_ALLOWED: 405 };

const log = (line: string) => console.error(`[berth] webhooks: ${line}`);

export interface HookDeps {
  db: () => Db;
  services: () => Promise<FleetServices>;
  pipeline: HookPipeline;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

function errorAnswer(code: HookErrorCode, message: string, requestId: string | null, headers: Record<string, string> = {}): Response {
  const extra: Record<string, string> = { ...headers };
  // RFC 9110: a 401 names how to authenticate.
  if (code === "UNAUTHORIZED") extra["www-authenticate"] = 'Webhook realm="berth"';
  return json(STATUS[code] ?? 500, { error: { code, message, requestId } }, extra);
}

/** Any thrown value → an answer (an unexpected one logged, its message hidden behind the request id). */
function answerError(e: unknown, meta: RequestMeta): Response {
  if (isAppError(e) && e.code in STATUS && e.code !== "INTERNAL") {
    const retry = e.details.retryAfterSeconds;
    return errorAnswer(e.code as HookErrorCode, e.message, meta.requestId, retry !== undefined ? { "retry-after": String(retry) } : {});
  }
  const app = toAppError(e, { requestId: meta.requestId, log });
  if (app && app.code !== "INTERNAL") return errorAnswer(app.code, app.message, meta.requestId);
  if (!isAudited(e)) log(`request ${meta.requestId} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return errorAnswer("INTERNAL", `Something went wrong on the server (request id ${meta.requestId ?? "unknown"}).`, meta.requestId);
}

type BodyRead = { ok: true; body: Buffer } | { ok: false };

async function readBody(req: Request, max: number): Promise<BodyRead> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) {
    await req.body?.cancel().catch(() => {});
    return { ok: false };
  }
  if (!req.body) return { ok: true, body: Buffer.alloc(0) };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      // Read (and drop) a bounded amount more so the client finishes sending and reads the 413.
      while (total <= 16 * max) {
        const more = await reader.read().catch(() => null);
        if (!more || more.done) break;
        total += more.value.byteLength;
      }
      await reader.cancel().catch(() => {});
      return { ok: false };
    }
    chunks.push(value);
  }
  return { ok: true, body: Buffer.concat(chunks) };
}

/** The path as audit records show it: never the secret, only its display prefix. */
function safePath(segments: readonly string[]): string {
  return `/api/hooks/${segments.map((s, i) => (i === 0 && s !== "signed" ? `${webhookDisplayPrefix(s)}…` : s.slice(0, 64))).join("/")}`;
}

/** What a call asks for, once its body is understood. */
type Ask =
  | { kind: "image"; image: ImageReference | null; raw: string | null }
  | { kind: "envelope"; pushes: PushEvent[]; skipped: SkippedEvent[] };

class Refusal extends Error {
  constructor(
    readonly code: HookErrorCode,
    message: string,
    readonly outcome: "denied" | "error",
  ) {
    super(message);
  }
}

const JSON_TYPES = new Set(["application/json"]);

/** The body as an ask: JSON {"image"} (or nothing), or an envelope. Throws a Refusal saying what is wrong. */
function understand(body: Buffer, contentType: string | null, signed: boolean): Ask {
  const type = mediaTypeOf(contentType);
  const text = body.toString("utf8");
  const envelope = type === ENVELOPE_MEDIA_TYPE || (signed && type === "application/json");
  if (signed && !envelope) {
    throw new Refusal("UNSUPPORTED_MEDIA_TYPE", `A signed call carries a registry notification envelope: send Content-Type ${ENVELOPE_MEDIA_TYPE}${type ? `, not ${type.slice(0, 100)}` : ""}.`, "error");
  }
  if (!envelope && !text.trim()) return { kind: "image", image: null, raw: null };
  if (!envelope && type !== null && !JSON_TYPES.has(type)) {
    throw new Refusal("UNSUPPORTED_MEDIA_TYPE", `Send the body as Content-Type application/json ({"image": "repo:tag"}) or ${ENVELOPE_MEDIA_TYPE}, not ${type.slice(0, 100)}.`, "error");
  }
  if (!text.trim()) throw new Refusal("BAD_REQUEST", "The envelope is empty: expected {\"events\": […]}.", "error");
  const deep = jsonDepthProblem(text);
  if (deep) throw new Refusal("BAD_REQUEST", `Malformed JSON in the request body: ${deep}.`, "error");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Refusal("BAD_REQUEST", `Malformed JSON in the request body: ${e instanceof SyntaxError ? e.message : "it does not parse"}.`, "error");
  }
  if (envelope) {
    const parsed = parseEnvelope(value);
    if (!parsed.ok) throw new Refusal("BAD_REQUEST", parsed.problem, "error");
    return { kind: "envelope", pushes: parsed.pushes, skipped: parsed.skipped };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Refusal("BAD_REQUEST", 'The body must be a JSON object: {"image": "repo:tag"} or {"image": "repo@sha256:…"}.', "error");
  const unknownKeys = Object.keys(value).filter((k) => k !== "image");
  if (unknownKeys.length) throw new Refusal("BAD_REQUEST", `Unknown field${unknownKeys.length > 1 ? "s" : ""} in the body: ${unknownKeys.slice(0, 5).map((k) => k.slice(0, 40)).join(", ")} (only "image" is accepted).`, "error");
  const image = (value as { image?: unknown }).image;
  if (image === undefined || image === null) return { kind: "image", image: null, raw: null };
  if (typeof image !== "string" || !image.trim() || image.length > 512) throw new Refusal("BAD_REQUEST", '"image" must be an image reference: "repo:tag" or "repo@sha256:…".', "error");
  try {
    return { kind: "image", image: parseReference(image.trim()), raw: image.trim() };
  } catch (e) {
    throw new Refusal("BAD_REQUEST", `"image" is not an image reference: ${e instanceof Error ? e.message : "it does not parse"}.`, "error");
  }
}

function tagOf(ref: string): string | null {
  try {
    const r = parseReference(ref);
    return r.tag ?? (r.digest ? null : "latest");
  } catch {
    return null;
  }
}

/** What to request: the reference (null: the saved one, pulled again), or why it is refused or ignored. */
type Decision = { kind: "rollout"; image: string | null; tag: string | null } | { kind: "ignored"; message: string; skipped: SkippedEvent[] };

function decide(ask: Ask, target: HookTarget, tagPattern: string | null): Decision {
  const what = target.kind === "deployment" ? `deployment ${target.name}` : `stack ${target.name}`;
  if (ask.kind === "image") {
    if (ask.image) {
      const ref = formatReference(ask.image);
      if (!sameRepository(target, ref)) {
        const runs = target.images.length ? target.images.map((i) => i.slice(0, 200)).join(", ") : "no image";
        throw new Refusal("UNPROCESSABLE", `${ask.raw!.slice(0, 300)} is not in the repository ${what} runs (${runs}); a webhook can move a tag or a digest, never swap the image.`, "denied");
      }
      const tag = ask.image.tag ?? null;
      if (tagPattern) {
        if (!tag) throw new Refusal("FORBIDDEN", `This webhook only deploys tags matching "${tagPattern}"; ${ask.raw!.slice(0, 300)} names a digest and no tag.`, "denied");
        if (!matchesTagPattern(tagPattern, tag)) throw new Refusal("FORBIDDEN", `The tag "${tag}" does not match this webhook's pattern "${tagPattern}".`, "denied");
      }
      return { kind: "rollout", image: ask.raw, tag };
    }
    if (!target.images.length) throw new Refusal("UNPROCESSABLE", `${what} has no saved image to pull again.`, "error");
    if (tagPattern) {
      for (const i of target.images) {
        const tag = tagOf(i);
        if (!tag || !matchesTagPattern(tagPattern, tag)) throw new Refusal("FORBIDDEN", `The saved reference ${i.slice(0, 300)} does not match this webhook's tag pattern "${tagPattern}".`, "denied");
      }
    }
    return { kind: "rollout", image: null, tag: target.images.length === 1 ? tagOf(target.images[0]!) : null };
  }
  const skipped = [...ask.skipped];
  const candidates: { push: PushEvent; ref: ImageReference }[] = [];
  for (const push of ask.pushes) {
    const running = imageForRepositoryPath(target, push.repository);
    if (!running) {
      skipped.push({ action: "push", repository: push.repository, reason: `not the repository ${what} runs` });
      continue;
    }
    if (tagPattern && (!push.tag || !matchesTagPattern(tagPattern, push.tag))) {
      skipped.push({ action: "push", repository: push.repository, reason: push.tag ? `the tag "${push.tag}" does not match the pattern "${tagPattern}"` : `no tag (the pattern is "${tagPattern}")` });
      continue;
    }
    candidates.push({ push, ref: running });
  }
  const chosen = latestPush(candidates.map((c) => c.push));
  const match = candidates.find((c) => c.push === chosen);
  if (!chosen || !match) {
    return { kind: "ignored", message: `No push of the repository ${what} runs${tagPattern ? ` with a tag matching "${tagPattern}"` : ""}: nothing to roll out.`, skipped: skipped.slice(0, 20) };
  }
  const ref: ImageReference = { registry: match.ref.registry, repository: match.ref.repository, ...(chosen.digest ? { digest: chosen.digest } : { tag: chosen.tag! }) };
  return { kind: "rollout", image: formatReference(ref), tag: chosen.tag };
}

function statusUrlFor(origin: string, secret: string | null, rolloutId: string): string | null {
  return secret ? `${origin}/api/hooks/${secret}/rollouts/${rolloutId}` : null;
}

function rolloutState(r: Rollout, statusUrl: string | null) {
  return {
    rolloutId: r.id,
    status: r.status,
    finished: (FINISHED_STATUSES as readonly string[]).includes(r.status),
    reason: r.reason,
    imageRef: r.imageRef,
    digestBefore: r.digestBefore,
    digestAfter: r.digestAfter,
    createdAt: r.createdAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    statusUrl,
  };
}

/** The answer to ?wait=true: 200 succeeded; 409 failed (or superseded, rejected, expired, cancelled); 202 still going when the wait ended. */
export function waitStatus(status: string): number {
  if (status === "succeeded") return 200;
  if ((FINISHED_STATUSES as readonly string[]).includes(status as RolloutStatus)) return 409;
  return 202;
}

function waitSeconds(url: URL): number | null {
  const wait = url.searchParams.get("wait");
  if (wait === null || wait === "false" || wait === "0") return null;
  if (wait !== "true" && wait !== "1" && wait !== "") throw new Refusal("BAD_REQUEST", `?wait must be true or false, not ${wait.slice(0, 20)}.`, "error");
  const t = url.searchParams.get("timeout");
  if (t === null) return DEFAULT_WAIT_SECONDS;
  if (!/^\d{1,4}$/.test(t) || Number(t) < 1 || Number(t) > MAX_WAIT_SECONDS) throw new Refusal("BAD_REQUEST", `?timeout must be a whole number of seconds from 1 to ${MAX_WAIT_SECONDS}.`, "error");
  return Number(t);
}

/** The console's public origin (BERTH_PUBLIC_URL), as the URLs shown at creation use it. */
function origin(): string {
  return publicOrigin(env());
}

async function deliver(deps: HookDeps, req: Request, credential: HookCredential, secret: string | null, body: Buffer, meta: RequestMeta, base: Record<string, unknown>): Promise<Response> {
  const url = new URL(req.url);
  // 1–2. Authenticate (secret or signature), limit (per webhook; failures per address).
  const caller: HookAdmission = await deps.pipeline.admit({ credential, meta, authAction: "webhooks.deliver", rateAction: "webhooks.deliver", params: base });
  const hook = caller.viewer.webhook;
  const ref = targetOf(hook);
  const target = ref ? await loadTarget(deps.db(), ref) : null;
  const denial = { action: "webhooks.deliver", params: { ...base, webhookId: hook.id }, hostId: target?.host.id ?? hook.hostId, target: ref ? { type: ref.kind, id: ref.id } : null };
  if (!target) throw await caller.deny("NOT_FOUND", `The ${ref?.kind ?? "deployment"} this webhook deploys no longer exists.`, { ...denial, outcome: "error" });

  // 3. Authorise: the creator, as they are now, must hold the deploy permission on the target's host.
  const permission = DEPLOY_PERMISSION[target.kind];
  await caller.authorise({
    permissions: [permission],
    host: target.host,
    message: () => `This webhook acts for its creator, who no longer holds ${permission} on host ${target.host.name}; it is refused.`,
    denial,
  });

  // What is asked: the body, the repository, the tag pattern.
  let decision: Decision;
  let wait: number | null;
  try {
    wait = waitSeconds(url);
    decision = decide(understand(body, req.headers.get("content-type"), credential.kind === "signed"), target, hook.tagPattern);
  } catch (e) {
    if (e instanceof Refusal) throw await caller.deny(e.code, e.message, { ...denial, outcome: e.outcome });
    throw e;
  }
  if (decision.kind === "ignored") {
    await caller.record({ ...denial, outcome: "success", params: { ...denial.params, ignored: decision.skipped.length }, errorMessage: decision.message });
    return json(200, { rolloutId: null, status: "ignored", message: decision.message, ignored: decision.skipped });
  }

  // Audit intent → request the rollout → audit outcome.
  const trail = caller.trail("webhooks.deliver");
  trail.note.hostId = target.host.id;
  trail.note.target = { type: target.kind, id: target.id };
  const params: Record<string, unknown> = { ...base, webhookId: hook.id, image: decision.image, wait: wait !== null };
  trail.note.params = params;
  await trail.intent();
  let accepted;
  try {
    const services = await deps.services();
    accepted = await requestRollout(
      { db: deps.db(), services },
      {
        target: target.kind === "deployment" ? { kind: "deployment", deploymentId: target.id } : { kind: "stack", stackId: target.id },
        image: decision.image,
        trigger: "webhook",
        // Pre-approval holds only while the creator still may approve on the host (their rights as they are now).
        requester: { actor: caller.actor, viewer: caller.viewer, webhookId: hook.id, preApproved: hook.preApproved && canOnHost(caller.viewer, "deploys.approve", target.host) },
      },
    );
  } catch (e) {
    const app = toAppError(e, { requestId: meta.requestId, log });
    await trail.outcome(app && isDenialCode(app.code) ? "denied" : "error", app && app.code !== "INTERNAL" ? app.message : "internal error");
    throw e;
  }
  params.rolloutId = accepted.rolloutId;
  params.status = accepted.status;
  await trail.outcome("success", null);

  const statusUrl = statusUrlFor(origin(), secret, accepted.rolloutId);
  if (wait === null) return json(202, { rolloutId: accepted.rolloutId, status: accepted.status, statusUrl }, statusUrl ? { location: statusUrl } : {});
  const final = await waitForRollout(deps.db(), accepted.rolloutId, wait * 1000);
  return json(waitStatus(final.status), rolloutState(final, statusUrl));
}

async function status(deps: HookDeps, secret: string, rolloutId: string, meta: RequestMeta, base: Record<string, unknown>): Promise<Response> {
  const caller = await deps.pipeline.admit({ credential: { kind: "secret", secret }, meta, authAction: "webhooks.status", rateAction: "webhooks.status", params: base });
  const hook = caller.viewer.webhook;
  const rollout = /^[A-Za-z0-9_-]{1,64}$/.test(rolloutId) ? await deps.db().rollout.findFirst({ where: { id: rolloutId, webhookId: hook.id } }) : null;
  if (!rollout) throw await caller.deny("NOT_FOUND", "This webhook started no such rollout.", { action: "webhooks.status", params: { ...base, webhookId: hook.id, rolloutId: rolloutId.slice(0, 64) }, hostId: hook.hostId });
  return json(200, rolloutState(rollout, statusUrlFor(origin(), secret, rollout.id)));
}

/** Routes a request under /api/hooks; `segments` is the path after it. */
export async function handleHookRequest(deps: HookDeps, req: Request, segments: readonly string[]): Promise<Response> {
  const meta = requestMetaFrom(req.headers);
  const method = req.method.toUpperCase();
  const base = { method, path: safePath(segments) };
  try {
    const signed = segments[0] === "signed";
    const deliverPath = signed ? segments.length === 2 : segments.length === 1;
    const statusPath = !signed && segments.length === 3 && segments[1] === "rollouts";
    if (!deliverPath && !statusPath) return errorAnswer("NOT_FOUND", "No such webhook endpoint: POST /api/hooks/<secret>, GET /api/hooks/<secret>/rollouts/<rolloutId>, POST /api/hooks/signed/<webhookId>.", meta.requestId);
    if (deliverPath && method !== "POST") return errorAnswer("METHOD_NOT_ALLOWED", `${method} is not supported here; use POST.`, meta.requestId, { allow: "POST" });
    if (statusPath && method !== "GET") return errorAnswer("METHOD_NOT_ALLOWED", `${method} is not supported here; use GET.`, meta.requestId, { allow: "GET" });
    if (statusPath) return await status(deps, segments[0]!, segments[2]!, meta, base);

    const read = await readBody(req, MAX_HOOK_BODY_BYTES);
    if (!read.ok) {
      // Refused before anything is looked up (a signed body can't even be checked); recorded as the anonymous caller it still is.
      const message = `The request body is larger than ${MAX_HOOK_BODY_BYTES} bytes.`;
      await recordSafely(deps.db(), meta, { actor: { type: "anonymous", id: null, label: null }, action: "webhooks.deliver", outcome: "error", params: base, errorMessage: message }, log);
      return errorAnswer("PAYLOAD_TOO_LARGE", message, meta.requestId);
    }
    const credential: HookCredential = signed
      ? { kind: "signed", webhookId: segments[1]!, signature: req.headers.get(SIGNATURE_HEADER), body: read.body, box: async () => (await deps.services()).box }
      : { kind: "secret", secret: segments[0]! };
    return await deliver(deps, req, credential, signed ? null : segments[0]!, read.body, meta, base);
  } catch (e) {
    return answerError(e, meta);
  }
}

// One pipeline for every bundle Next builds (each may load its own copy of this module): the limits are shared.
const holder = globalThis as unknown as { berthHookPipeline?: HookPipeline };

export function defaultHookDeps(services: () => Promise<FleetServices>): HookDeps {
  holder.berthHookPipeline ??= createHookPipeline({ db: defaultDb, log });
  return { db: defaultDb, services, pipeline: holder.berthHookPipeline };
}
