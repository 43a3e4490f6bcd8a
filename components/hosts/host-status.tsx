"use client";
import type { inferRouterOutputs } from "@trpc/server";
import { useEffect, useState } from "react";
import { Badge, type Tone } from "@/components/ui/badge";
import { DetailItem, DetailList } from "@/components/ui/details";
import { formatBytes, relativeTime } from "@/components/ui/format";
import type { HostChoice } from "@/components/ui/host-picker";
import type { AppRouter } from "@/server/routers/_app";

// What the hosts pages share: the host type as the API returns it, the status
// badge, the agent badge and the facts.

type Outputs = inferRouterOutputs<AppRouter>;
export type HostItem = Outputs["hosts"]["list"][number];
export type LiveChange = Outputs["hosts"]["live"] extends AsyncIterable<infer T> ? T : never;

/** The one word (and its explanation) the console shows for a host's state. */
export function statusOf(h: Pick<HostItem, "status" | "stale" | "agent" | "statusMessage">): { label: string; tone: Tone; explain: string } {
  switch (h.status) {
    case "connected":
      if (h.agent === "missing") return { label: "connected", tone: "green", explain: "SSH works, but the agent does not answer." };
      if (h.stale) return { label: "stale", tone: "amber", explain: "Last known state: the gateway is still reaching the agent." };
      return { label: "connected", tone: "green", explain: "Connected; the agent answers." };
    case "unreachable":
      return { label: "unreachable", tone: "red", explain: h.statusMessage ?? "The gateway cannot reach the host; it keeps retrying." };
    case "hostKeyChanged":
      return { label: "host key changed", tone: "red", explain: "The host presented a different SSH key than the one pinned. The gateway refuses to connect." };
    case "authFailed":
      return { label: "auth failed", tone: "red", explain: h.statusMessage ?? "The host refused the stored credential." };
    default:
      return { label: "pending", tone: "slate", explain: "Connecting for the first time." };
  }
}

/** A host as the host picker offers it: its name, and its state when it isn't connected. */
export function hostChoice(h: Pick<HostItem, "id" | "name" | "status" | "stale" | "agent" | "statusMessage">): HostChoice {
  return { id: h.id, name: h.name, note: h.status === "connected" ? null : statusOf(h).label };
}

export function StatusBadge({ host }: { host: Pick<HostItem, "status" | "stale" | "agent" | "statusMessage"> }) {
  const s = statusOf(host);
  return (
    <span title={s.explain} data-testid="host-status" className="whitespace-nowrap">
      <Badge tone={s.tone}>{s.label}</Badge>
    </span>
  );
}

export function AgentBadge({ host }: { host: Pick<HostItem, "agent" | "agentVersion" | "status"> }) {
  if (host.agent === "missing" || (!host.agentVersion && host.status === "connected" && host.agent !== "ok")) {
    return <Badge tone="amber">{host.agentVersion ? `${host.agentVersion} · not answering` : "not installed"}</Badge>;
  }
  if (!host.agentVersion) return <span className="text-slate-500">—</span>;
  return <span className="font-mono text-xs" data-testid="agent-version">{host.agentVersion}</span>;
}

/** "3 min ago", kept current by a local clock (no server traffic). */
export function LastSeen({ at }: { at: Date | null }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  if (!at) return <span className="text-slate-500">never</span>;
  return (
    <time dateTime={at.toISOString()} title={at.toLocaleString()}>
      {now === null ? at.toLocaleString() : relativeTime(at, now)}
    </time>
  );
}

/** "2 running / 5", or — while the agent hasn't said. */
export function containerCounts(h: Pick<HostItem, "containerCount" | "runningCount">): string {
  return h.containerCount === null ? "—" : `${h.runningCount ?? 0} running / ${h.containerCount}`;
}

type Facts = NonNullable<HostItem["facts"]>;

export function systemLine(f: Facts | null): string {
  if (!f) return "—";
  return [f.distro ?? f.os, f.kernel ? `kernel ${f.kernel}` : null, f.arch].filter(Boolean).join(" · ");
}

export function resourcesLine(f: Facts | null): string {
  if (!f) return "—";
  const disk = f.diskBytes !== undefined ? `${formatBytes(f.diskFreeBytes)} free of ${formatBytes(f.diskBytes)}` : null;
  return [f.cpus !== undefined ? `${f.cpus} CPU${f.cpus === 1 ? "" : "s"}` : null, f.memoryBytes !== undefined ? `${formatBytes(f.memoryBytes)} RAM` : null, disk]
    .filter(Boolean)
    .join(" · ");
}

export function runtimeLine(f: Facts | null): string {
  if (!f) return "—";
  return [
    f.cgroup ? (f.cgroup === "none" ? "no cgroups" : `cgroup ${f.cgroup}`) : null,
    `runc ${f.runc ?? "missing"}`,
    `conmon ${f.conmon ?? "missing"}`,
  ]
    .filter(Boolean)
    .join(" · ");
}

/** Every fact, as a definition list. */
export function FactsList({ facts }: { facts: Facts | null }) {
  if (!facts) return <p className="text-sm text-slate-500">No facts yet: they are gathered when the gateway first connects.</p>;
  const yes = (b: boolean) => (b ? "yes" : "no");
  const rows: [string, string][] = [
    ["Distribution", facts.distro ?? facts.os],
    ["Kernel", facts.kernel ?? "—"],
    ["Architecture", facts.arch ?? "—"],
    ["CPUs", facts.cpus !== undefined ? String(facts.cpus) : "—"],
    ["Memory", formatBytes(facts.memoryBytes)],
    ["Disk (/)", facts.diskBytes !== undefined ? `${formatBytes(facts.diskFreeBytes)} free of ${formatBytes(facts.diskBytes)}` : "—"],
    ["Load", facts.load !== undefined ? String(facts.load) : "—"],
    ["cgroups", facts.cgroup ?? "—"],
    ["runc", facts.runc ?? "missing"],
    ["conmon", facts.conmon ?? "missing"],
    ["Node.js", facts.node ?? "missing"],
    ["Namespaces / overlay", `${yes(facts.namespaces)} / ${yes(facts.overlay)}`],
    ["ip / nft", `${yes(facts.ip)} / ${yes(facts.nft)}`],
    ["Root / sudo", `${yes(facts.root)} / ${yes(facts.sudo)}`],
    ["systemd", yes(facts.systemd)],
    ["Package manager", facts.packageManager ?? "—"],
    ["Gathered", new Date(facts.gatheredAt).toLocaleString()],
  ];
  return (
    <DetailList testId="host-facts">
      {rows.map(([k, v]) => (
        <DetailItem key={k} label={k}>
          {v}
        </DetailItem>
      ))}
    </DetailList>
  );
}
