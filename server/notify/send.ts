import "server-only";
import { isIP } from "node:net";
import nodemailer from "nodemailer";
import type { ChannelSettings, EmailSettings } from "./config";
import { renderEmail, renderSlack, renderWebhook, type Message } from "./render";
import { DELIVERY_HEADER, SIGNATURE_HEADER, signPayload, TIMESTAMP_HEADER } from "./sign";

// Sending one message to one channel, with a timeout on everything. The
// answer says whether it went out and, if not, why (in words a person can act
// on) and whether trying again could help.

export type SendResult = { ok: true } | { ok: false; error: string; permanent: boolean };

export interface SendOptions {
  /** Per request (HTTP) or per SMTP stage (connect, greeting, each command). */
  timeoutMs?: number;
}

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;
const USER_AGENT = "Berth-Alerts/1";
const MAX_ERROR_BODY = 200;

export async function send(settings: ChannelSettings, m: Message, o: SendOptions = {}): Promise<SendResult> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  switch (settings.kind) {
    case "webhook": {
      const body = JSON.stringify(renderWebhook(m));
      const headers: Record<string, string> = { "content-type": "application/json", "user-agent": USER_AGENT, [DELIVERY_HEADER]: m.notificationId };
      if (settings.key) {
        const ts = Math.floor(Date.now() / 1000);
        headers[TIMESTAMP_HEADER] = String(ts);
        headers[SIGNATURE_HEADER] = signPayload(settings.key, ts, body);
      }
      return postJson(settings.url, body, headers, timeoutMs, "webhook");
    }
    case "slack":
      return postJson(settings.url, JSON.stringify(renderSlack(m)), { "content-type": "application/json", "user-agent": USER_AGENT }, timeoutMs, "Slack webhook");
    case "email":
      return sendEmail(settings, m, timeoutMs);
  }
}

/** Whether an HTTP status is worth trying again: 5xx, 408 and 429. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number, what: string): Promise<SendResult> {
  const origin = safeOrigin(url);
  let res: Response;
  try {
    // Redirects are not followed: a channel posts where it was told to, nowhere else.
    res = await fetch(url, { method: "POST", body, headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return { ok: false, error: `The ${what} at ${origin} could not be reached: ${networkReason(e, timeoutMs)}.`, permanent: false };
  }
  const text = await readCapped(res);
  if (res.status >= 200 && res.status < 300) return { ok: true };
  if (res.status >= 300 && res.status < 400) {
    return { ok: false, error: `The ${what} at ${origin} answered ${res.status} (a redirect to ${res.headers.get("location") ?? "nowhere"}); redirects are not followed, save the final URL.`, permanent: true };
  }
  const detail = text ? `: ${text}` : "";
  return { ok: false, error: `The ${what} at ${origin} answered HTTP ${res.status}${detail}`, permanent: !retryableStatus(res.status) };
}

async function readCapped(res: Response): Promise<string> {
  try {
    const t = await res.text();
    return t.replace(/\s+/g, " ").trim().slice(0, MAX_ERROR_BODY);
  } catch {
    return "";
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

function networkReason(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const code = err?.cause?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "the host name does not resolve";
  if (code === "ECONNRESET") return "the connection was reset";
  if (code && /CERT|SSL|TLS/.test(code)) return `TLS failed (${err.cause?.message ?? code})`;
  return err?.cause?.message ?? err?.message ?? String(e);
}

// ---- email ----

export function mailTransport(s: EmailSettings, timeoutMs: number) {
  return nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.security === "tls",
    requireTLS: s.security === "starttls",
    ignoreTLS: s.security === "none",
    auth: s.username ? { user: s.username, pass: s.password ?? "" } : undefined,
    // The certificate is checked against the host as configured (SNI only for a name, not an address).
    tls: { ...(s.ca ? { ca: s.ca } : {}), ...(isIP(s.host) ? {} : { servername: s.host }) },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
    dnsTimeout: timeoutMs,
  });
}

async function sendEmail(s: EmailSettings, m: Message, timeoutMs: number): Promise<SendResult> {
  const transport = mailTransport(s, timeoutMs);
  const mail = renderEmail(m);
  try {
    const info = await transport.sendMail({ from: s.from, to: s.to, subject: mail.subject, text: mail.text, html: mail.html, headers: { "X-Berth-Notification": m.notificationId } });
    if (info.rejected.length && !info.accepted.length) return { ok: false, error: `The SMTP server ${s.host}:${s.port} refused every recipient (${info.rejected.join(", ")}).`, permanent: true };
    return { ok: true };
  } catch (e) {
    return smtpFailure(s, e);
  } finally {
    transport.close();
  }
}

/** Connects, starts TLS as configured and logs in (nodemailer's verify), within the timeout. */
export async function verifyEmail(s: EmailSettings, timeoutMs = DEFAULT_SEND_TIMEOUT_MS): Promise<SendResult> {
  const transport = mailTransport(s, timeoutMs);
  try {
    await transport.verify();
    return { ok: true };
  } catch (e) {
    return smtpFailure(s, e);
  } finally {
    transport.close();
  }
}

export function smtpFailure(s: { host: string; port: number; username: string | null; security: string }, e: unknown): { ok: false; error: string; permanent: boolean } {
  const err = e as { code?: string; responseCode?: number; response?: string; message?: string; cause?: { code?: string } };
  const at = `${s.host}:${s.port}`;
  const response = (err.response ?? "").replace(/\s+/g, " ").trim().slice(0, MAX_ERROR_BODY);
  const message = err.message ?? String(e);
  const permanent = typeof err.responseCode === "number" && err.responseCode >= 500;
  if (err.code === "EAUTH") return { ok: false, error: `The SMTP server ${at} refused the login of ${s.username ?? "(no user)"}: ${response || message}`, permanent };
  if (err.code === "ETIMEDOUT" || /timeout/i.test(message)) return { ok: false, error: `The SMTP server ${at} did not answer in time (${message}).`, permanent: false };
  if (/ECONNREFUSED/.test(message) || err.cause?.code === "ECONNREFUSED") return { ok: false, error: `Can't connect to the SMTP server ${at}: connection refused.`, permanent: false };
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return { ok: false, error: `Can't connect to the SMTP server ${at}: the host name does not resolve.`, permanent: false };
  if (err.code === "ETLS" || /certificate|self[- ]signed|SSL|TLS|wrong version/i.test(message)) {
    return { ok: false, error: `TLS with the SMTP server ${at} failed (${message}). If it uses a private CA or a self-signed certificate, add it as the channel's CA.`, permanent: false };
  }
  if (err.code === "EENVELOPE") return { ok: false, error: `The SMTP server ${at} refused the message's sender or recipients: ${response || message}`, permanent };
  return { ok: false, error: `The SMTP server ${at} failed: ${response || message}`, permanent };
}
