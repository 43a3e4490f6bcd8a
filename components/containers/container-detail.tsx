"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useState, type ReactNode } from "react";
import { OperationProgress } from "@/components/deploy/operation-progress";
import { useOperationProgress } from "@/components/deploy/use-operation-progress";
import { covers, needsPermission, type HostCoverage } from "@/components/hosts/coverage";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, PageHeader } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { DetailItem, DetailList } from "@/components/ui/details";
import { Callout, Note, Loading, Reason } from "@/components/ui/feedback";
import { FormError } from "@/components/ui/field";
import { formatBytes, formatDate, shortId } from "@/components/ui/format";
import type { AppRouter } from "@/server/routers/_app";
import { ContainerLogs } from "./container-logs";
import { ContainerStats } from "./container-stats";
import { ACTION_LABEL, ACTION_PERMISSION, StateBadge, type ContainerAction } from "./shared";
import { useLiveContainers } from "./use-live-containers";

// xterm touches the DOM when it loads: the terminal is rendered in the browser only.
const ExecTerminal = dynamic(() => import("@/components/exec/terminal").then((m) => m.ExecTerminal), {
  ssr: false,
  loading: () => <Loading>Loading the terminal…</Loading>,
});

export type ContainerTab = "overview" | "logs" | "stats" | "exec";
type Inspect = inferRouterOutputs<AppRouter>["containers"]["inspect"];

export interface ContainerPermissions {
  control: HostCoverage;
  remove: HostCoverage;
  exec: HostCoverage;
  logs: HostCoverage;
  deploy: HostCoverage;
  canReadHosts: boolean;
}

const TAB_LABEL: Record<ContainerTab, string> = { overview: "Overview", logs: "Logs", stats: "Stats", exec: "Exec" };
const CONFIRM: Partial<Record<ContainerAction, string>> = {
  stop: "The container's processes get SIGTERM, then SIGKILL if they don't exit. Its restart policy won't start it again.",
  restart: "The container is stopped and started again; its processes restart.",
  remove: "The container is stopped if running and deleted with its writable layer. Named volumes stay. This cannot be undone.",
};

export function ContainerDetail({
  hostId,
  containerId,
  initialTab,
  permissions,
}: {
  hostId: string;
  containerId: string;
  initialTab: ContainerTab;
  permissions: ContainerPermissions;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const tabsId = useId();
  const [tab, setTab] = useState<ContainerTab>(initialTab);
  const [confirming, setConfirming] = useState<ContainerAction | null>(null);
  const inspect = useQuery({ ...trpc.containers.inspect.queryOptions({ hostId, containerId }), retry: false });
  const host = useQuery({ ...trpc.hosts.get.queryOptions({ hostId }), enabled: permissions.canReadHosts, retry: false });
  useLiveContainers({ enabled: permissions.canReadHosts, hostId });
  const action = useMutation(
    trpc.containers.action.mutationOptions({
      onSuccess: async (_r, vars) => {
        setConfirming(null);
        if (vars.action === "remove") {
          qc.removeQueries(trpc.containers.inspect.queryFilter({ hostId, containerId }));
          await qc.invalidateQueries(trpc.containers.all.pathFilter());
          router.push("/containers");
          return;
        }
        await Promise.all([qc.invalidateQueries(trpc.containers.inspect.queryFilter({ hostId, containerId })), qc.invalidateQueries(trpc.containers.all.pathFilter())]);
      },
    }),
  );

  const choose = (t: ContainerTab) => {
    setTab(t);
    // Shareable and kept on reload, without a round trip to the server.
    const url = new URL(window.location.href);
    url.searchParams.set("tab", t);
    window.history.replaceState(window.history.state, "", url);
  };

  const back = (
    <Link href="/containers" className="mb-2 inline-block text-sm text-sky-700 hover:underline dark:text-sky-400">
      ← All containers
    </Link>
  );
  if (inspect.error) {
    return (
      <>
        {back}
        <PageHeader title="Container" />
        <FormError message={errorMessage(inspect.error)} />
      </>
    );
  }
  const c = inspect.data;
  if (!c) return <Loading />;

  const hostRef = { id: hostId, hostGroupId: host.data?.hostGroupId };
  const can = (coverage: HostCoverage) => covers(coverage, hostRef);
  const name = c.Name.replace(/^\//, "");
  const state = c.State.Status;
  const running = c.State.Running && !c.State.Paused;
  const available: ContainerAction[] = [
    ...(!c.State.Running ? (["start"] as const) : []),
    ...(running ? (["stop", "restart", "pause"] as const) : []),
    ...(c.State.Paused ? (["unpause", "stop"] as const) : []),
    "remove",
  ];
  const reasons = available.map((a) => (can(permissions[a === "remove" ? "remove" : "control"]) ? null : needsPermission(ACTION_PERMISSION[a])));

  const run = (a: ContainerAction) => {
    action.reset();
    if (CONFIRM[a]) setConfirming(a);
    else action.mutate({ hostId, containerId: c.Id, action: a });
  };

  return (
    <>
      {back}
      <PageHeader
        title={name}
        description={`${c.Config.Image} on ${host.data?.name ?? "its host"} · ${shortId(c.Id)}`}
        actions={
          <div className="flex flex-col items-end gap-1">
            <div className="flex flex-wrap items-center gap-2" data-testid="container-actions">
              <StateBadge state={state} />
              {available.map((a, i) => (
                <Button
                  key={a}
                  variant={a === "remove" ? "danger" : "secondary"}
                  disabled={Boolean(reasons[i]) || action.isPending}
                  title={reasons[i] ?? undefined}
                  onClick={() => run(a)}
                >
                  {action.isPending && action.variables?.action === a ? `${ACTION_LABEL[a]}…` : ACTION_LABEL[a]}
                </Button>
              ))}
            </div>
            <Reason>{reasons.find(Boolean)}</Reason>
          </div>
        }
      />
      {action.error && !confirming ? <FormError message={errorMessage(action.error)} /> : null}

      <div role="tablist" aria-label="Container" className="mb-4 flex gap-1 border-b border-slate-200 dark:border-slate-800">
        {(Object.keys(TAB_LABEL) as ContainerTab[]).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`${tabsId}-${t}`}
            aria-selected={tab === t}
            aria-controls={`${tabsId}-${t}-panel`}
            onClick={() => choose(t)}
            className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${
              tab === t ? "border-sky-600 text-sky-700 dark:text-sky-400" : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100"
            }`}
          >
            {TAB_LABEL[t]}
          </button>
        ))}
      </div>

      {/* Only the open tab is mounted: a closed Logs, Stats or Exec tab streams nothing. */}
      <div role="tabpanel" id={`${tabsId}-${tab}-panel`} aria-labelledby={`${tabsId}-${tab}`}>
        {tab === "overview" ? (
          <Overview c={c} hostId={hostId} hostAddress={host.data?.address ?? null} canDeploy={can(permissions.deploy)} />
        ) : tab === "logs" ? (
          can(permissions.logs) ? (
            <ContainerLogs hostId={hostId} containerId={c.Id} name={name} />
          ) : (
            <Unavailable>{needsPermission("containers.logs")} Logs are hidden without it.</Unavailable>
          )
        ) : tab === "stats" ? (
          running ? (
            <ContainerStats hostId={hostId} containerId={c.Id} />
          ) : (
            <Unavailable>The container is {state}: statistics are live figures from a running container. Start it to see them.</Unavailable>
          )
        ) : !can(permissions.exec) ? (
          <Unavailable>{needsPermission("containers.exec")} Opening a shell in a container is only for those who hold it.</Unavailable>
        ) : !running ? (
          <Unavailable>The container is {state}: a shell runs inside a running container. Start it first.</Unavailable>
        ) : (
          <Card title="Shell">
            <ExecTerminal hostId={hostId} containerId={c.Id} />
          </Card>
        )}
      </div>

      {confirming ? (
        <ConfirmDialog
          title={`${ACTION_LABEL[confirming]} ${name}?`}
          confirmLabel={ACTION_LABEL[confirming]}
          mutation={action}
          onConfirm={() => action.mutate({ hostId, containerId: c.Id, action: confirming })}
          onClose={() => setConfirming(null)}
        >
          <p>{CONFIRM[confirming]}</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function Unavailable({ children }: { children: ReactNode }) {
  return <Callout tone="slate">{children}</Callout>;
}

// ---------------------------------------------------------------------------
// Overview

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v && typeof v === "object" && !Array.isArray(v) ? (v as Rec) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const num = (v: unknown): number => (typeof v === "number" ? v : 0);

function Overview({ c, hostId, hostAddress, canDeploy }: { c: Inspect; hostId: string; hostAddress: string | null; canDeploy: boolean }) {
  const full = c as unknown as Rec;
  const config = rec(full.Config);
  const hostConfig = rec(full.HostConfig);
  const network = rec(full.NetworkSettings);
  const restart = rec(hostConfig.RestartPolicy);
  const command = [str(full.Path), ...arr(full.Args).map(str)].filter(Boolean);
  const ports = Object.entries(rec(network.Ports)).flatMap(([key, bindings]) => {
    const [port, proto = "tcp"] = key.split("/");
    const list = arr(bindings).map(rec);
    return list.length
      ? list.map((b) => ({ container: port!, proto, hostIp: str(b.HostIp), hostPort: str(b.HostPort) }))
      : [{ container: port!, proto, hostIp: "", hostPort: "" }];
  });
  const mounts = arr(full.Mounts).map(rec);
  const tmpfs = Object.entries(rec(hostConfig.Tmpfs));
  const networks = Object.entries(rec(network.Networks)).map(([name, v]) => ({ ...rec(v), name }) as Rec & { name: string });
  const env = c.Config.Env ?? [];
  const labels = Object.entries(c.Config.Labels ?? {});
  const memory = num(hostConfig.Memory);
  const nanoCpus = num(hostConfig.NanoCpus);
  const pids = num(hostConfig.PidsLimit);
  const capAdd = arr(hostConfig.CapAdd).map(str);
  const capDrop = arr(hostConfig.CapDrop).map(str);

  return (
    <div className="space-y-6" data-testid="container-overview">
      {c.deployment ? <DeploymentCard deployment={c.deployment} hostId={hostId} canDeploy={canDeploy} /> : null}

      <Card title="Container">
        <DetailList>
          <DetailItem label="State">
            <StateBadge state={c.State.Status} />
            {!c.State.Running && c.State.FinishedAt && !c.State.FinishedAt.startsWith("0001") ? (
              <span className="ml-2 text-xs text-slate-500">exit code {c.State.ExitCode}</span>
            ) : null}
          </DetailItem>
          <DetailItem label="Image">
            <span className="font-mono text-xs">{c.Config.Image}</span>
            {c.updateAvailable ? (
              <span className="ml-2" title="The tag this container was started from now points at a newer image in the registry. Update the deployment (or let its registry watch do it) to run it.">
                <Badge tone="sky">update available</Badge>
              </span>
            ) : null}
          </DetailItem>
          <DetailItem label="Command" wide>
            <span className="font-mono text-xs">{command.join(" ") || "—"}</span>
          </DetailItem>
          <DetailItem label="Created">{formatDate(c.Created)}</DetailItem>
          <DetailItem label="Started">{c.State.StartedAt && !c.State.StartedAt.startsWith("0001") ? formatDate(c.State.StartedAt) : "—"}</DetailItem>
          <DetailItem label="Restart policy">
            {str(restart.Name) || "no"}
            {num(restart.MaximumRetryCount) ? ` (max ${num(restart.MaximumRetryCount)})` : ""}
          </DetailItem>
          <DetailItem label="Restarts">{num(full.RestartCount)}</DetailItem>
          <DetailItem label="Working directory">{str(config.WorkingDir) || "—"}</DetailItem>
          <DetailItem label="User">{str(config.User) || "(image default)"}</DetailItem>
          <DetailItem label="Hostname">{str(config.Hostname) || "—"}</DetailItem>
          <DetailItem label="ID">
            <span className="font-mono text-xs">{c.Id}</span>
          </DetailItem>
        </DetailList>
      </Card>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Published ports">
          {ports.length === 0 ? (
            <Note>No ports published.</Note>
          ) : (
            <ul className="space-y-1 text-sm" data-testid="container-ports">
              {ports.map((p, i) => {
                const label = p.hostPort ? `${p.hostIp && p.hostIp !== "0.0.0.0" ? `${p.hostIp}:` : ""}${p.hostPort} → ${p.container}/${p.proto}` : `${p.container}/${p.proto} (not published)`;
                const address = p.hostIp && p.hostIp !== "0.0.0.0" && p.hostIp !== "::" ? p.hostIp : hostAddress;
                return (
                  <li key={i} className="font-mono text-xs">
                    {p.hostPort && p.proto === "tcp" && address ? (
                      <a href={`http://${address.includes(":") ? `[${address}]` : address}:${p.hostPort}/`} target="_blank" rel="noreferrer" className="text-sky-700 underline dark:text-sky-400">
                        {label}
                      </a>
                    ) : (
                      label
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </Card>

        <Card title="Networks">
          {networks.length === 0 ? (
            <Note>Network mode: {str(hostConfig.NetworkMode) || "—"}</Note>
          ) : (
            <ul className="space-y-2 text-sm">
              {networks.map((n) => (
                <li key={n.name}>
                  <span className="font-medium">{n.name}</span>{" "}
                  <span className="font-mono text-xs text-slate-600 dark:text-slate-400">
                    {str(n.IPAddress) ? `${str(n.IPAddress)}/${num(n.IPPrefixLen)}` : ""}
                    {str(n.Gateway) ? ` via ${str(n.Gateway)}` : ""}
                  </span>
                  {arr(n.Aliases).length ? <div className="text-xs text-slate-500">aliases: {arr(n.Aliases).map(str).join(", ")}</div> : null}
                </li>
              ))}
            </ul>
          )}
        </Card>

        <Card title="Mounts">
          {mounts.length === 0 && tmpfs.length === 0 ? (
            <Note>Nothing mounted.</Note>
          ) : (
            <ul className="space-y-1 font-mono text-xs">
              {mounts.map((m, i) => (
                <li key={i}>
                  <Badge>{str(m.Type) || "mount"}</Badge> {str(m.Name) || str(m.Source)} → {str(m.Destination)}
                  {m.RW === false ? " (read-only)" : ""}
                </li>
              ))}
              {tmpfs.map(([target, options]) => (
                <li key={target}>
                  <Badge>tmpfs</Badge> {target}
                  {str(options) ? ` (${str(options)})` : ""}
                </li>
              ))}
            </ul>
          )}
        </Card>

        <Card title="Limits and privileges">
          <DetailList>
            <DetailItem label="Memory">{memory ? formatBytes(memory) : "no limit"}</DetailItem>
            <DetailItem label="CPUs">{nanoCpus ? String(nanoCpus / 1e9) : "no limit"}</DetailItem>
            <DetailItem label="PIDs">{pids > 0 ? pids : "no limit"}</DetailItem>
            <DetailItem label="Privileged">{hostConfig.Privileged ? <Badge tone="red">yes</Badge> : "no"}</DetailItem>
            <DetailItem label="Read-only root">{hostConfig.ReadonlyRootfs ? "yes" : "no"}</DetailItem>
            <DetailItem label="Capabilities">{[...capAdd.map((x) => `+${x}`), ...capDrop.map((x) => `-${x}`)].join(" ") || "defaults"}</DetailItem>
          </DetailList>
        </Card>
      </div>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Environment">
          {env.length === 0 ? (
            <Note>No variables.</Note>
          ) : (
            <ul className="max-h-72 space-y-0.5 overflow-auto font-mono text-xs">
              {env.map((kv, i) => (
                <li key={i} className="break-all">
                  {kv}
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Labels">
          {labels.length === 0 ? (
            <Note>No labels.</Note>
          ) : (
            <ul className="max-h-72 space-y-0.5 overflow-auto font-mono text-xs">
              {labels.map(([k, v]) => (
                <li key={k} className="break-all">
                  {k}={v}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </div>
  );
}

function DeploymentCard({ deployment, hostId, canDeploy }: { deployment: NonNullable<Inspect["deployment"]>; hostId: string; canDeploy: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { progress, run } = useOperationProgress();
  const update = useMutation(trpc.containers.update.mutationOptions());

  const start = async () => {
    setConfirming(false);
    setBusy(true);
    setError(null);
    setOutcome(null);
    try {
      const result = await run((progressToken) => update.mutateAsync({ hostId, deploymentId: deployment.id, overridePolicy: false, progressToken }));
      await qc.invalidateQueries(trpc.containers.pathFilter());
      if (result.rolledBack) setOutcome({ ok: false, message: `Rolled back: ${result.message ?? "the new container did not stay up"}. The previous container runs again.` });
      else {
        setOutcome({ ok: true, message: `${result.name} runs the newest image.` });
        // The update replaced the container: its page is the new one's.
        router.replace(`/containers/${hostId}/${result.containerId}`);
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title="Deployment"
      actions={
        <div className="flex items-center gap-2">
          {!canDeploy ? <Reason>{needsPermission("containers.deploy")}</Reason> : null}
          <Button disabled={!canDeploy || busy} title={canDeploy ? undefined : needsPermission("containers.deploy")} onClick={() => setConfirming(true)}>
            {busy ? "Updating…" : "Update"}
          </Button>
        </div>
      }
    >
      <div className="space-y-3">
        <DetailList>
          <DetailItem label="Deployment">
            <Link href={`/deployments/${encodeURIComponent(deployment.id)}`} className="text-sky-700 hover:underline dark:text-sky-400">
              {deployment.name}
            </Link>
          </DetailItem>
          <DetailItem label="Status">
            <Badge tone={deployment.status === "running" ? "green" : deployment.status === "rolledBack" ? "amber" : "slate"}>{deployment.status}</Badge>
          </DetailItem>
          {deployment.message ? (
            <DetailItem label="Last message" wide>
              {deployment.message}
            </DetailItem>
          ) : null}
        </DetailList>
        <p className="text-xs text-slate-500">Update pulls the newest image for this deployment and replaces the container; if the new one won&apos;t stay up, the old one comes back.</p>
        {busy || progress.phase ? <OperationProgress progress={progress} title="Update progress" steps={["pull", "create", "start", "verify", "done"]} /> : null}
        {outcome ? (
          <p role="status" className={`text-sm ${outcome.ok ? "text-emerald-700 dark:text-emerald-400" : "text-amber-700 dark:text-amber-400"}`}>
            {outcome.message}
          </p>
        ) : null}
        <FormError message={error} />
      </div>
      {confirming ? (
        <ConfirmDialog title={`Update ${deployment.name}?`} confirmLabel="Update" onConfirm={() => void start()} onClose={() => setConfirming(false)}>
          <p>The newest image is pulled, this container is stopped and replaced by a new one made from the same settings. It is briefly unavailable.</p>
        </ConfirmDialog>
      ) : null}
    </Card>
  );
}
