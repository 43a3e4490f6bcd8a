"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import type { inferRouterOutputs } from "@trpc/server";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { StatusBadge, statusOf } from "@/components/hosts/host-status";
import { Button } from "@/components/ui/button";
import { Badge, Card, EmptyState } from "@/components/ui/card";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import type { AppRouter } from "@/server/routers/_app";
import { Sparkline } from "./sparkline";

type Overview = inferRouterOutputs<AppRouter>["hosts"]["overview"];
type OverviewHost = Overview["hosts"][number];

/** Live changes arrive in bursts (a host connecting sends several): re-read the overview once per burst. */
const REREAD_MS = 300;

const linkButton =
  "inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium transition-colors bg-sky-600 text-white hover:bg-sky-700";

/** Why a host wants someone to look at it; empty when it's fine. */
export function attentionReasons(h: OverviewHost): { label: string; tone: "red" | "amber" | "slate"; explain: string }[] {
  const reasons: { label: string; tone: "red" | "amber" | "slate"; explain: string }[] = [];
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

function useLiveOverview() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const reread = () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void qc.invalidateQueries(trpc.hosts.overview.pathFilter());
    }, REREAD_MS);
  };
  const sub = useSubscription(trpc.hosts.live.subscriptionOptions(undefined, { onStarted: reread, onData: reread }));
  return sub.status === "pending";
}

export function FleetOverview({ canAddHosts, canReadContainers }: { canAddHosts: boolean; canReadContainers: boolean }) {
  const trpc = useTRPC();
  const overview = useQuery(trpc.hosts.overview.queryOptions());
  const live = useLiveOverview();

  if (overview.error) return <p role="alert" className="text-sm text-rose-700 dark:text-rose-400">{errorMessage(overview.error)}</p>;
  if (!overview.data) return <p className="text-sm text-slate-500">Loading the fleet…</p>;
  const { hosts, totals } = overview.data;

  if (totals.hosts === 0) {
    return (
      <EmptyState
        title="Welcome to Berth: add your first host"
        action={
          canAddHosts ? (
            <div className="flex flex-wrap justify-center gap-2">
              <Link href="/hosts/new" className={linkButton}>
                Add a host
              </Link>
              <AddThisMachine />
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
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" data-testid="dashboard-hosts">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th className="px-2 py-2">Host</th>
                <th className="px-2 py-2">Status</th>
                <th className="px-2 py-2">Load</th>
                <th className="px-2 py-2">Memory used</th>
                <th className="px-2 py-2">Containers</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
              {hosts.map((h) => (
                <tr key={h.id}>
                  <td className="px-2 py-2">
                    <Link href={`/hosts/${h.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                      {h.name}
                    </Link>
                  </td>
                  <td className="px-2 py-2">
                    <StatusBadge host={h} />
                  </td>
                  <td className="px-2 py-2">
                    <Sparkline
                      label={`Load of ${h.name}`}
                      values={h.samples.map((s) => s.load)}
                      minCeiling={h.facts?.cpus ?? 1}
                      format={(v) => v.toFixed(2)}
                    />
                  </td>
                  <td className="px-2 py-2">
                    <Sparkline
                      label={`Memory used on ${h.name}`}
                      values={h.samples.map((s) => s.memory)}
                      min={0}
                      max={1}
                      tone="violet"
                      format={(v) => `${Math.round(v * 100)}%`}
                    />
                  </td>
                  <td className="px-2 py-2 text-xs">{h.containerCount === null ? "—" : `${h.runningCount ?? 0} running / ${h.containerCount}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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

function AddThisMachine() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const add = useMutation(
    trpc.hosts.addLocal.mutationOptions({
      onSuccess: async (host) => {
        await qc.invalidateQueries(trpc.hosts.pathFilter());
        router.push(`/hosts/${host.id}`);
      },
    }),
  );
  return (
    <span className="inline-flex flex-col items-center gap-1">
      <Button variant="secondary" disabled={add.isPending} onClick={() => add.mutate({})}>
        {add.isPending ? "Adding this machine…" : "Add this machine"}
      </Button>
      {add.error ? (
        <span role="alert" className="text-xs text-rose-700 dark:text-rose-400">
          {errorMessage(add.error)}
        </span>
      ) : null}
    </span>
  );
}
