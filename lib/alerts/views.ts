// What the console and the API see of alerts, notifications and stats
// history. The routers (server/routers alerts, alert-rules, channels,
// silences, stats) return these shapes.

import type { AlertKind, Severity } from "./kinds";

export interface AlertRuleView {
  id: string;
  name: string;
  kind: AlertKind;
  severity: Severity;
  scopeKey: string;
  /** The scope as people read it ("all hosts", "group web", "host db-1"). */
  scopeLabel: string;
  labelSelector: Record<string, string>;
  params: Record<string, unknown>;
  forSeconds: number;
  repeatMinutes: number;
  channelIds: string[];
  enabled: boolean;
  builtIn: boolean;
  firing: number;
  updatedAt: Date;
}

export type ChannelKind = "webhook" | "slack" | "email";

export interface ChannelView {
  id: string;
  name: string;
  kind: ChannelKind;
  /** What may be shown: URL host, SMTP host/port/TLS mode, from, to. Never a secret. */
  config: Record<string, unknown>;
  /** Whether a secret (HMAC key, Slack URL, SMTP password) is set. */
  hasSecret: boolean;
  enabled: boolean;
  lastDeliveryAt: Date | null;
  lastError: string | null;
  /** Deliveries that failed and are waiting for a retry, or gave up, in the last 24 hours. */
  failing: number;
}

export interface NotificationView {
  id: string;
  alertId: string | null;
  channelId: string;
  channelName: string;
  kind: "firing" | "repeat" | "resolved" | "test";
  status: "pending" | "sent" | "failed" | "dead";
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  sentAt: Date | null;
  createdAt: Date;
}

export interface AlertTimelineEntry {
  at: string;
  event: "pending" | "fired" | "notified" | "repeated" | "silenced" | "resolved" | "failed";
  message: string;
}

export interface AlertView {
  id: string;
  ruleId: string;
  ruleName: string;
  kind: AlertKind;
  severity: Severity;
  status: "pending" | "firing" | "resolved";
  subjectKey: string;
  summary: string;
  host: { id: string; name: string } | null;
  container: { id: string | null; name: string } | null;
  startsAt: Date;
  firedAt: Date | null;
  resolvedAt: Date | null;
  lastNotifiedAt: Date | null;
  notifyCount: number;
  silencedBy: { id: string; comment: string; createdByLabel: string | null; endsAt: Date } | null;
}

export interface AlertDetail extends AlertView {
  details: Record<string, unknown>;
  timeline: AlertTimelineEntry[];
  notifications: NotificationView[];
}

export interface SilenceView {
  id: string;
  ruleId: string | null;
  ruleName: string | null;
  scopeKey: string | null;
  labelSelector: Record<string, string>;
  comment: string;
  startsAt: Date;
  endsAt: Date;
  endedAt: Date | null;
  active: boolean;
  createdByLabel: string | null;
}

export interface StatsPoint {
  at: Date;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
}
