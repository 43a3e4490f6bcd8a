import "server-only";
import { z } from "zod";
import type { ChannelKind } from "../../lib/alerts/views";
import { AppError } from "../errors";
import type { SecretBox } from "../secrets/cipher";

// A channel's settings as they come in (the router's input), as they are kept
// (AlertChannel.config: only what may be shown; AlertChannel.secret: the
// sealed rest), and as they are used to send.
//
//   webhook  config {url: origin + path}          secret {url (full, with its query), key (HMAC)}
//   slack    config {host: the URL's host}         secret {url}
//   email    config {host, port, security, username, from, to, hasCa}   secret {password, ca}

const urlText = z.string().trim().min(1, "enter the URL").max(2048);

export const webhookInput = z.object({
  kind: z.literal("webhook"),
  url: urlText,
  /** The HMAC key; one is generated (and shown once) when a new channel has none. */
  secret: z.string().min(16, "a signing secret has at least 16 characters").max(256).optional(),
});
export const slackInput = z.object({ kind: z.literal("slack"), url: urlText.optional() });
export const emailInput = z.object({
  kind: z.literal("email"),
  host: z.string().trim().min(1, "enter the SMTP server").max(253),
  port: z.number().int().min(1).max(65535).default(587),
  /** starttls: upgrade on 587/25; tls: implicit TLS (465); none: plain (loopback/test only). */
  security: z.enum(["starttls", "tls", "none"]).default("starttls"),
  username: z.string().max(256).optional(),
  password: z.string().max(1024).optional(),
  /** A CA (or the server's own certificate), PEM, to trust when the server's certificate isn't from a public CA. */
  ca: z.string().max(32_768).optional(),
  from: z.email().max(256),
  to: z.array(z.email().max(256)).min(1, "add at least one recipient").max(50),
});
export const channelConfigInput = z.discriminatedUnion("kind", [webhookInput, slackInput, emailInput]);
export type ChannelConfigInput = z.infer<typeof channelConfigInput>;

export interface ChannelSecrets {
  url?: string;
  key?: string;
  password?: string;
  ca?: string;
}

export interface WebhookSettings {
  kind: "webhook";
  url: string;
  key: string | null;
}
export interface SlackSettings {
  kind: "slack";
  url: string;
}
export interface EmailSettings {
  kind: "email";
  host: string;
  port: number;
  security: "starttls" | "tls" | "none";
  username: string | null;
  password: string | null;
  ca: string | null;
  from: string;
  to: string[];
}
/** Everything needed to send (secrets opened). */
export type ChannelSettings = WebhookSettings | SlackSettings | EmailSettings;

const SECRET_PURPOSE = "alert-channel";

export function sealSecrets(box: SecretBox, s: ChannelSecrets): string | null {
  const clean = Object.fromEntries(Object.entries(s).filter(([, v]) => typeof v === "string" && v !== ""));
  return Object.keys(clean).length ? box.seal(JSON.stringify(clean), SECRET_PURPOSE) : null;
}

export function openSecrets(box: SecretBox, sealed: string | null): ChannelSecrets {
  if (!sealed) return {};
  const v = JSON.parse(box.open(sealed, SECRET_PURPOSE)) as unknown;
  return v && typeof v === "object" ? (v as ChannelSecrets) : {};
}

/** Checks a webhook URL: http(s), a host, no user:password part. Throws BAD_REQUEST saying what is wrong. */
export function checkHttpUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("BAD_REQUEST", `The ${what} URL is not a valid URL: "${raw.slice(0, 100)}". It should look like https://example.com/hooks/berth.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AppError("BAD_REQUEST", `The ${what} URL must start with http:// or https:// (not ${url.protocol.replace(/:$/, "")}).`);
  }
  if (!url.hostname) throw new AppError("BAD_REQUEST", `The ${what} URL has no host.`);
  if (url.username || url.password) throw new AppError("BAD_REQUEST", `The ${what} URL must not contain a user name or password; use the signing secret instead.`);
  return url;
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The settings a save would keep: the input, with omitted secrets taken from what was saved (same kind only). */
export function mergeSettings(input: ChannelConfigInput, saved: { kind: string; settings: ChannelSettings | null } | null, generateKey: () => string): { settings: ChannelSettings; generatedKey: string | null } {
  const same = saved && saved.kind === input.kind ? saved.settings : null;
  switch (input.kind) {
    case "webhook": {
      const url = checkHttpUrl(input.url, "webhook").toString();
      const keep = same?.kind === "webhook" ? same.key : null;
      const generatedKey = input.secret || keep ? null : generateKey();
      return { settings: { kind: "webhook", url, key: input.secret ?? keep ?? generatedKey }, generatedKey };
    }
    case "slack": {
      const raw = input.url ?? (same?.kind === "slack" ? same.url : undefined);
      if (!raw) throw new AppError("BAD_REQUEST", "Enter the Slack incoming-webhook URL.");
      return { settings: { kind: "slack", url: checkHttpUrl(raw, "Slack webhook").toString() }, generatedKey: null };
    }
    case "email": {
      const prev = same?.kind === "email" ? same : null;
      const username = input.username?.trim() ? input.username.trim() : null;
      // A password is kept only for the same user name (a new user needs its own).
      const password = input.password ? input.password : prev && prev.username === username ? prev.password : null;
      if (username && !password) throw new AppError("BAD_REQUEST", `Enter the SMTP password for ${username}.`);
      if (username && input.security === "none" && !isLoopback(input.host)) {
        throw new AppError("BAD_REQUEST", "A login over an unencrypted SMTP connection would send the password in the clear: use starttls or tls (none is for a relay on this machine).");
      }
      const ca = input.ca !== undefined ? (input.ca.trim() ? input.ca : null) : (prev?.ca ?? null);
      return {
        settings: { kind: "email", host: input.host, port: input.port, security: input.security, username, password: username ? password : null, ca, from: input.from, to: input.to },
        generatedKey: null,
      };
    }
  }
}

/** What AlertChannel keeps in the clear (config.hasSecret: whether the HMAC key, Slack URL or SMTP password is set) and sealed. */
export function storedForm(settings: ChannelSettings): { config: Record<string, unknown>; secrets: ChannelSecrets } {
  switch (settings.kind) {
    case "webhook": {
      const u = new URL(settings.url);
      return { config: { url: `${u.origin}${u.pathname}`, hasSecret: Boolean(settings.key) }, secrets: { url: settings.url, key: settings.key ?? undefined } };
    }
    case "slack":
      return { config: { host: new URL(settings.url).host, hasSecret: true }, secrets: { url: settings.url } };
    case "email":
      return {
        config: { host: settings.host, port: settings.port, security: settings.security, username: settings.username, from: settings.from, to: settings.to, hasCa: settings.ca !== null, hasSecret: Boolean(settings.password) },
        secrets: { password: settings.password ?? undefined, ca: settings.ca ?? undefined },
      };
  }
}

/** The settings to send with, from a saved row. Throws if the row is damaged (its lastError says so). */
export function settingsOf(box: SecretBox, row: { kind: string; config: unknown; secret: string | null }): ChannelSettings {
  const c = (row.config ?? {}) as Record<string, unknown>;
  const s = openSecrets(box, row.secret);
  switch (row.kind as ChannelKind) {
    case "webhook":
      if (!s.url) throw new Error("the channel has no URL saved");
      return { kind: "webhook", url: s.url, key: s.key ?? null };
    case "slack":
      if (!s.url) throw new Error("the channel has no URL saved");
      return { kind: "slack", url: s.url };
    case "email":
      return {
        kind: "email",
        host: String(c.host),
        port: Number(c.port),
        security: (c.security as EmailSettings["security"]) ?? "starttls",
        username: typeof c.username === "string" ? c.username : null,
        password: s.password ?? null,
        ca: s.ca ?? null,
        from: String(c.from),
        to: Array.isArray(c.to) ? c.to.map(String) : [],
      };
    default:
      throw new Error(`unknown channel kind ${row.kind}`);
  }
}

/** A channel input as the audit log keeps it: no secret, and URLs cut to their origin (a Slack URL is a secret). */
export function auditableInput(raw: unknown): unknown {
  if (!raw || typeof raw !== "object") return raw;
  const r = raw as Record<string, unknown>;
  const config = r.config && typeof r.config === "object" ? { ...(r.config as Record<string, unknown>) } : undefined;
  if (config) {
    for (const k of ["secret", "password", "ca"]) if (k in config) config[k] = "[redacted]";
    if (typeof config.url === "string") {
      try {
        config.url = new URL(config.url).origin;
      } catch {
        config.url = "[not a URL]";
      }
    }
  }
  return { ...r, ...(config ? { config } : {}) };
}
