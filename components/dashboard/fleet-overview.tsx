"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import Link from "next/link";
import { AddLocalButton } from "@/components/hosts/add-local-button";
import { containerCounts, StatusBadge, statusOf } from "@/components/hosts/host-status";
import { useLiveReread } from "@/components/hosts/use-live-reread";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge, type Tone } from "@/components/ui/badge";
import { ButtonLink } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { ErrorText, Loading } from "@/components/ui/feedback";
import type { AppRouter } from "@/server/routers/_app";
import { Sparkline } from "./sparkline";

type Overview = inferRouterOutputs<AppRouter>["hosts"]["overview"];
type OverviewHost = Overview["hosts"][number];

/** Why a host wants someone to look at it; empty when it's fine. */
type Attention = { label: string; tone: Extract<Tone, "red" | "amber" | "slate">; explain: string };

export function attentionReasons(h: OverviewHost): Attention[] {
  const reasons: Attention[] = [];
  if (h.status !== "connected") {
    const s = statusOf(h);
    reasons.push({ label: s.label, tone: s.tone === "red" ? "red" : "slate", explain: s.explain });
  } else {
    if (h.stale) reasons.push({ label: "stale", tone: "amber", explain: "Showing the last known state while the gateway reaches the agent again." });
    if (h.agent === "missing") reasons.push({ label: "agent missing", tone: "amber", explain: "SSH works, but the agent does not answer: install or restart it." });
  }
  if (h.upgradeAvailable) reasons.push({ label: "agent upgrade", tone: "slate", explain: "The installed agent differs from the gateway's." });
  return reasons;
}

/** The overview is made from the fleet's live state: re-read it when a host changes. */
function useLiveOverview(): boolean {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useLiveReread({ reread: () => void qc.invalidateQueries(trpc.hosts.overview.pathFilter()) }).live;
}

export function FleetOverview({ canAddHosts, canReadContainers }: { canAddHosts: boolean; canReadContainers: boolean }) {
  const trpc = useTRPC();
  const overview = useQuery(trpc.hosts.overview.queryOptions());
  const live = useLiveOverview();

  if (overview.error) return <ErrorText>{errorMessage(overview.error)}</ErrorText>;
  if (!overview.data) return <Loading>Loading the fleet…</Loading>;
  const { hosts, totals } = overview.data;

  if (totals.hosts === 0) {
    return (
      <EmptyState
        title="Welcome to Berth: add your first host"
        action={
          canAddHosts ? (
            <div className="flex flex-wrap justify-center gap-2">
              <ButtonLink href="/hosts/new">Add a host</ButtonLink>
              <AddLocalButton />
            </div>
          ) : null
        }
      >
        {canAddHosts ? (
          <>
            Add a Linux machine over SSH (you confirm its host key, Berth installs its agent), or add the machine this console runs on. Then deploy
            containers to it from the browser.
          </>
        ) : (
          <>There are no hosts you can see yet. Adding hosts needs the hosts.manage permission everywhere: ask an Owner or Admin.</>
        )}
      </EmptyState>
    );
  }

  const attention = hosts.map((h) => ({ host: h, reasons: attentionReasons(h) })).filter((a) => a.reasons.length > 0);
  const urgent = attention.filter((a) => a.reasons.some((r) => r.tone !== "slate"));

  return (
    <div className="space-y-6">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Tile testId="tile-hosts" label="Hosts" value={String(totals.hosts)} href="/hosts" hint={live ? "● live" : "○ connecting…"} />
        <Tile
          testId="tile-connected"
          label="Connected"
          value={String(totals.connected)}
          href="/hosts"
          hint={totals.connected === totals.hosts ? "All hosts answer." : `${totals.hosts - totals.connected} not connected.`}
        />
        <Tile
          testId="tile-containers"
          label="Containers running"
          value={`${totals.running} / ${totals.containers}`}
          href={canReadContainers ? "/containers" : "/hosts"}
          hint={`${totals.running} running of ${totals.containers} on connected hosts.`}
        />
        <Tile
          testId="tile-attention"
          label="Need attention"
          value={String(urgent.length)}
          href="#attention"
          hint={urgent.length ? "See below." : "Nothing needs you."}
          tone={urgent.length ? "amber" : undefined}
        />
      </div>

      <Card title={<span id="attention">Hosts needing attention</span>}>
        {attention.length === 0 ? (
          <p className="text-sm text-emerald-700 dark:text-emerald-400" data-testid="attention-none">
            Every host is connected and its agent answers.
          </p>
        ) : (
          <ul className="divide-y divide-slate-200 dark:divide-slate-800" data-testid="attention-list">
            {attention.map(({ host: h, reasons }) => (
              <li key={h.id} className="flex flex-wrap items-start justify-between gap-2 py-2">
                <div>
                  <Link href={`/hosts/${h.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                    {h.name}
                  </Link>
                  <div className="text-xs text-slate-500">{reasons.map((r) => r.explain).join(" ")}</div>
                </div>
                <div className="flex flex-wrap gap-1">
                  {reasons.map((r) => (
                    <Badge key={r.label} tone={r.tone}>
                      {r.label}
                    </Badge>
                  ))}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>

      <Card title="Hosts at a glance">
        <DataTable testId="dashboard-hosts" columns={["Host", "Status", "Load", "Memory used", "Containers"]}>
          {hosts.map((h) => (
            <tr key={h.id}>
              <td className={cell}>
                <Link href={`/hosts/${h.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                  {h.name}
                </Link>
              </td>
              <td className={cell}>
                <StatusBadge host={h} />
              </td>
              <td className={cell}>
                <Sparkline
                  label={`Load of ${h.name}`}
                  values={h.samples.map((s) => s.load)}
                  minCeiling={h.facts?.cpus ?? 1}
                  format={(v) => v.toFixed(2)}
                />
              </td>
              <td className={cell}>
                <Sparkline
                  label={`Memory used on ${h.name}`}
                  values={h.samples.map((s) => s.memory)}
                  min={0}
                  max={1}
                  tone="violet"
                  format={(v) => `${Math.round(v * 100)}%`}
                />
              </td>
              <td className={`${cell} text-xs`}>{containerCounts(h)}</td>
            </tr>
          ))}
        </DataTable>
        <p className="mt-2 text-xs text-slate-500">Load and memory are sampled every 30 seconds while a host is connected; the last 30 minutes are kept.</p>
      </Card>
    </div>
  );
}

export function Tile({ label, value, href, hint, testId, tone }: { label: string; value: string; href: string; hint: string; testId: string; tone?: "amber" }) {
  return (
    <Card className={tone === "amber" ? "border-amber-300 dark:border-amber-800" : ""}>
      <Link href={href} className="block" data-testid={testId}>
        <div className="text-sm text-slate-600 dark:text-slate-400">{label}</div>
        <div className="mt-1 text-3xl font-semibold" data-testid={`${testId}-value`}>
          {value}
        </div>
        <div className="mt-2 text-xs text-slate-500">{hint}</div>
      </Link>
    </Card>
  );
}
