"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { covers, type HostCoverage } from "@/components/hosts/coverage";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { ButtonLink } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { DetailItem, DetailList } from "@/components/ui/details";
import { ErrorText, Loading, Note, Reason } from "@/components/ui/feedback";
import { formatDate } from "@/components/ui/format";
import { Badge, type Tone } from "@/components/ui/badge";
import { Deliveries } from "./deliveries";
import { LogsAround } from "./logs-around";
import { AlertStatusBadge, AlertSubject, SeverityBadge, type AlertDetail, type AlertTimelineEntry } from "./shared";

// One alert: what it is about, its timeline (pending, fired, notified,
// silenced, resolved), every notification delivery with its attempts and
// errors, and the container's log around the time it fired.

const REFRESH_MS = 10_000;

const EVENT_TONE: Record<AlertTimelineEntry["event"], Tone> = {
  pending: "slate",
  fired: "red",
  notified: "sky",
  repeated: "sky",
  silenced: "amber",
  resolved: "green",
  failed: "red",
};

export function AlertDetailView({ alertId, silence, logs }: { alertId: string; silence: HostCoverage; logs: HostCoverage }) {
  const trpc = useTRPC();
  const alert = useQuery({
    ...trpc.alerts.get.queryOptions({ id: alertId }),
    retry: false,
    refetchInterval: (q) => (q.state.data && q.state.data.status !== "resolved" ? REFRESH_MS : false),
  });
  if (alert.error && !alert.data) return <ErrorText>Could not read the alert: {errorMessage(alert.error)}</ErrorText>;
  if (!alert.data) return <Loading />;
  const a = alert.data;
  const canSilenceHere = a.host ? covers(silence, a.host) : silence.all;
  const silenceHref = `/alerts/silences?ruleId=${encodeURIComponent(a.ruleId)}${a.host ? `&scope=${encodeURIComponent(`host:${a.host.id}`)}` : ""}`;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <p className="text-sm text-slate-500">
            <Link href="/alerts" className="hover:underline">
              Alerts
            </Link>{" "}
            /
          </p>
          <h1 className="flex flex-wrap items-center gap-2 text-2xl font-semibold tracking-tight">
            {a.ruleName} <AlertStatusBadge status={a.status} /> <SeverityBadge severity={a.severity} />
          </h1>
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">{a.summary}</p>
        </div>
        {a.status !== "resolved" ? (
          <div className="flex items-center gap-2">
            <Reason>{canSilenceHere ? null : "Silencing needs the alerts.silence permission on this host."}</Reason>
            {canSilenceHere ? (
              <ButtonLink variant="secondary" href={silenceHref}>
                Silence…
              </ButtonLink>
            ) : null}
          </div>
        ) : null}
      </div>

      <Card title="About">
        <DetailList testId="alert-facts">
          <DetailItem label="Subject">
            <AlertSubject alert={a} />
          </DetailItem>
          <DetailItem label="Rule">
            <Link href="/alerts/rules" className="text-sky-700 hover:underline dark:text-sky-400">
              {a.ruleName}
            </Link>
          </DetailItem>
          <DetailItem label="Started">{formatDate(a.startsAt)}</DetailItem>
          <DetailItem label="Fired">{a.firedAt ? formatDate(a.firedAt) : "not yet (waiting out the rule's “for”)"}</DetailItem>
          <DetailItem label="Resolved">{a.resolvedAt ? formatDate(a.resolvedAt) : "—"}</DetailItem>
          <DetailItem label="Notified">{a.lastNotifiedAt ? `${a.notifyCount}×, last ${formatDate(a.lastNotifiedAt)}` : "not yet"}</DetailItem>
          <DetailItem label="Silenced" wide>
            {a.silencedBy ? (
              <span data-testid="silenced-by">
                by {a.silencedBy.createdByLabel ?? "someone"} until {formatDate(a.silencedBy.endsAt)}: “{a.silencedBy.comment}”
              </span>
            ) : (
              "no"
            )}
          </DetailItem>
          {Object.entries(a.details).map(([k, v]) => (
            <DetailItem key={k} label={k}>
              {typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v)}
            </DetailItem>
          ))}
        </DetailList>
      </Card>

      <Card title="Timeline">
        {a.timeline.length === 0 ? (
          <Note>Nothing recorded yet.</Note>
        ) : (
          <ol className="space-y-2" data-testid="alert-timeline">
            {a.timeline.map((t, i) => (
              <li key={i} className="flex flex-wrap items-baseline gap-2 text-sm">
                <span className="w-40 shrink-0 text-xs text-slate-500 tabular-nums">{formatDate(t.at)}</span>
                <Badge tone={EVENT_TONE[t.event] ?? "slate"}>{t.event}</Badge>
                <span className="[overflow-wrap:anywhere]">{t.message}</span>
              </li>
            ))}
          </ol>
        )}
      </Card>

      <Card title="Notifications">
        <Deliveries items={a.notifications} testId="alert-deliveries" empty="No notification yet: the rule has no channel, the alert is silenced or still pending." />
      </Card>

      {a.host && a.container?.id ? (
        <LogsAround hostId={a.host.id} containerId={a.container.id} firedAt={a.firedAt ?? a.startsAt} resolvedAt={a.resolvedAt} allowed={covers(logs, a.host)} />
      ) : null}
    </div>
  );
}
