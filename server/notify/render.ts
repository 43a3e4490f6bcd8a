import "server-only";

// What each kind of channel is sent for one alert transition (or a test):
// the generic webhook's JSON, a Slack-compatible incoming webhook's
// {text, blocks}, and an email's subject, text and HTML. Pure.

export type NotificationKind = "firing" | "repeat" | "resolved" | "test";

export interface AlertFacts {
  id: string;
  ruleId: string | null;
  rule: string;
  kind: string;
  severity: string;
  summary: string;
  host: { id: string; name: string } | null;
  container: { id: string | null; name: string } | null;
  startsAt: Date;
  firedAt: Date | null;
  resolvedAt: Date | null;
  /** The alert's page in the console. */
  url: string;
}

export interface Message {
  notificationId: string;
  kind: NotificationKind;
  alert: AlertFacts;
}

export const WEBHOOK_VERSION = 1;

/** "firing" for firing and repeat (and a test), "resolved" once it stopped. */
export function statusOf(kind: NotificationKind): "firing" | "resolved" {
  return kind === "resolved" ? "resolved" : "firing";
}

function tag(kind: NotificationKind): string {
  return kind === "test" ? "TEST" : statusOf(kind).toUpperCase();
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface WebhookBody {
  version: number;
  status: "firing" | "resolved";
  /** firing (first message), repeat (still firing), resolved, test. */
  kind: NotificationKind;
  /** Unique per message and the same on every retry of it: receivers can drop duplicates. */
  notificationId: string;
  alert: Omit<AlertFacts, "startsAt" | "firedAt" | "resolvedAt"> & { startsAt: string; firedAt: string | null; resolvedAt: string | null };
}

export function renderWebhook(m: Message): WebhookBody {
  const a = m.alert;
  return {
    version: WEBHOOK_VERSION,
    status: statusOf(m.kind),
    kind: m.kind,
    notificationId: m.notificationId,
    alert: {
      id: a.id,
      ruleId: a.ruleId,
      rule: a.rule,
      kind: a.kind,
      severity: a.severity,
      summary: a.summary,
      host: a.host,
      container: a.container,
      startsAt: a.startsAt.toISOString(),
      firedAt: iso(a.firedAt),
      resolvedAt: iso(a.resolvedAt),
      url: a.url,
    },
  };
}

/** Slack mrkdwn: &, < and > are control characters. */
export function slackEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function where(a: AlertFacts): string {
  const parts: string[] = [];
  if (a.host) parts.push(`host ${a.host.name}`);
  if (a.container) parts.push(`container ${a.container.name}`);
  return parts.join(", ");
}

export function headline(m: Message): string {
  return `[${tag(m.kind)}] ${m.alert.severity} ${m.alert.summary}`;
}

export function renderSlack(m: Message): { text: string; blocks: unknown[] } {
  const a = m.alert;
  const emoji = m.kind === "resolved" ? ":white_check_mark:" : m.kind === "test" ? ":bell:" : a.severity === "critical" ? ":red_circle:" : ":warning:";
  const lines = [`${emoji} *[${tag(m.kind)}] ${slackEscape(a.severity)}* ${slackEscape(a.summary)}`];
  const at = where(a);
  if (at) lines.push(slackEscape(at));
  lines.push(`<${a.url}|Open in Berth>`);
  const context = [`Rule: ${slackEscape(a.rule)}`, `started ${a.startsAt.toISOString()}`];
  if (a.resolvedAt) context.push(`resolved ${a.resolvedAt.toISOString()}`);
  return {
    text: headline(m),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: lines.join("\n") } },
      { type: "context", elements: [{ type: "mrkdwn", text: context.join(" · ") }] },
    ],
  };
}

export function htmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Subject without line breaks (a header can't hold them), capped. */
function subjectLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, " ").slice(0, 200);
}

export function renderEmail(m: Message): { subject: string; text: string; html: string } {
  const a = m.alert;
  const rows: [string, string][] = [
    ["Status", m.kind === "test" ? "test" : statusOf(m.kind)],
    ["Severity", a.severity],
    ["Rule", a.rule],
  ];
  if (a.host) rows.push(["Host", a.host.name]);
  if (a.container) rows.push(["Container", a.container.name]);
  rows.push(["Started", a.startsAt.toISOString()]);
  if (a.firedAt) rows.push(["Fired", a.firedAt.toISOString()]);
  if (a.resolvedAt) rows.push(["Resolved", a.resolvedAt.toISOString()]);
  const text = [a.summary, "", ...rows.map(([k, v]) => `${k}: ${v}`), "", `Open in Berth: ${a.url}`, ""].join("\n");
  const html = [
    "<!doctype html><html><body style=\"font-family:sans-serif\">",
    `<p><strong>${htmlEscape(a.summary)}</strong></p>`,
    "<table>",
    ...rows.map(([k, v]) => `<tr><td style="color:#666;padding-right:1em">${htmlEscape(k)}</td><td>${htmlEscape(v)}</td></tr>`),
    "</table>",
    `<p><a href="${htmlEscape(a.url)}">Open the alert in Berth</a></p>`,
    "</body></html>",
  ].join("\n");
  return { subject: subjectLine(headline(m)), text, html };
}
