"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { AlertView } from "@/lib/alerts/views";
import { Badge, type Tone } from "@/components/ui/badge";

// What the alert pages share: the tabs between them, how a severity and a
// status look, durations, label selectors as text, and links to an alert's
// subject.

export { formatRepeat, formatSeconds, labelsToText, parseLabels } from "./format";
export type { AlertDetail, AlertRuleView, AlertTimelineEntry, AlertView, ChannelView, NotificationView, SilenceView } from "@/lib/alerts/views";

const TABS = [
  { href: "/alerts", label: "Alerts" },
  { href: "/alerts/rules", label: "Rules" },
  { href: "/alerts/channels", label: "Channels" },
  { href: "/alerts/silences", label: "Silences" },
] as const;

export type AlertsTab = (typeof TABS)[number]["href"];

/** The tabs the viewer may open (the server checks each page again). */
export function AlertsTabs({ show }: { show: AlertsTab[] }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Alerts sections" className="mb-6 flex gap-1 border-b border-slate-200 dark:border-slate-800">
      {TABS.filter((t) => show.includes(t.href)).map((t) => {
        const active = t.href === "/alerts" ? pathname === "/alerts" || /^\/alerts\/(?!rules|channels|silences)/.test(pathname) : pathname.startsWith(t.href);
        return (
          <Link
            key={t.href}
            href={t.href}
            aria-current={active ? "page" : undefined}
            className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${
              active ? "border-sky-600 text-sky-800 dark:text-sky-300" : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-200"
            }`}
          >
            {t.label}
          </Link>
        );
      })}
    </nav>
  );
}

const SEVERITY_TONE: Record<string, Tone> = { info: "sky", warning: "amber", critical: "red" };

export function SeverityBadge({ severity }: { severity: string }) {
  return <Badge tone={SEVERITY_TONE[severity] ?? "slate"}>{severity}</Badge>;
}

const STATUS_TONE: Record<AlertView["status"], Tone> = { pending: "slate", firing: "red", resolved: "green" };

export function AlertStatusBadge({ status }: { status: AlertView["status"] }) {
  return (
    <span data-testid="alert-status">
      <Badge tone={STATUS_TONE[status]}>{status}</Badge>
    </span>
  );
}

export function LabelChips({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return <span className="text-slate-400">—</span>;
  return (
    <span className="flex flex-wrap gap-1">
      {entries.map(([k, v]) => (
        <code key={k} className="rounded bg-slate-100 px-1 text-xs dark:bg-slate-800">
          {v === "" ? k : `${k}=${v}`}
        </code>
      ))}
    </span>
  );
}

const link = "text-sky-700 hover:underline dark:text-sky-400";

/** The alert's subject: its container (on its host) or its host, each linked to its page; or what it is about. */
export function AlertSubject({ alert }: { alert: Pick<AlertView, "host" | "container" | "subjectKey"> }) {
  const { host, container } = alert;
  if (host && container) {
    return (
      <span>
        {container.id ? (
          <Link className={link} href={`/containers/${encodeURIComponent(host.id)}/${encodeURIComponent(container.id)}`}>
            {container.name}
          </Link>
        ) : (
          <span title="The container no longer exists">{container.name}</span>
        )}
        <span className="text-slate-500"> on </span>
        <Link className={link} href={`/hosts/${encodeURIComponent(host.id)}`}>
          {host.name}
        </Link>
      </span>
    );
  }
  if (host) {
    return (
      <Link className={link} href={`/hosts/${encodeURIComponent(host.id)}`}>
        {host.name}
      </Link>
    );
  }
  return <span className="text-slate-600 dark:text-slate-400">{alert.subjectKey === "global" ? "Berth" : alert.subjectKey}</span>;
}
