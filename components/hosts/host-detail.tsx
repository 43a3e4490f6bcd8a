"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useState } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card, PageHeader } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { DetailItem, DetailList } from "@/components/ui/details";
import { Callout, ErrorText, Loading, Note, Reason, SuccessText } from "@/components/ui/feedback";
import { CheckboxField } from "@/components/ui/form";
import { covers, needsPermission, type HostCoverage } from "./coverage";
import { AgentBadge, FactsList, LastSeen, StatusBadge, statusOf, type HostItem } from "./host-status";
import { InstallAgent } from "./install-agent";
import { useLiveHosts } from "./use-live-hosts";

// The live event says a key changed; the presented fingerprint is recorded just
// after it. These bound the re-reads that wait for it.
const FINGERPRINT_REREAD_MS = 1_000;
const FINGERPRINT_REREADS = 10;

const MANAGE_REASON = needsPermission("hosts.manage");

export function HostDetail({ hostId, manage }: { hostId: string; manage: HostCoverage }) {
  const trpc = useTRPC();
  const host = useQuery({ ...trpc.hosts.get.queryOptions({ hostId }), retry: false });
  useLiveHosts();
  const h = host.data;

  const [rereads, setRereads] = useState(0);
  const waitingForKey = h?.status === "hostKeyChanged" && !h.presentedFingerprint;
  useEffect(() => {
    if (!waitingForKey || rereads >= FINGERPRINT_REREADS) return;
    const timer = setTimeout(() => {
      setRereads((n) => n + 1);
      void host.refetch();
    }, FINGERPRINT_REREAD_MS);
    return () => clearTimeout(timer);
  }, [waitingForKey, rereads, host]);

  if (host.error) {
    return (
      <>
        <PageHeader title="Host" />
        <ErrorText>{errorMessage(host.error)}</ErrorText>
        <Link href="/hosts" className="mt-4 inline-block text-sm text-sky-700 hover:underline dark:text-sky-400">
          ← All hosts
        </Link>
      </>
    );
  }
  if (!h) return <Loading />;
  const canManage = covers(manage, h);
  const status = statusOf(h);

  return (
    <>
      <Link href="/hosts" className="mb-2 inline-block text-sm text-sky-700 hover:underline dark:text-sky-400">
        ← All hosts
      </Link>
      <PageHeader
        title={h.name}
        description={h.transport === "local" ? "This machine: the gateway runs its agent itself." : `${h.username}@${h.address}:${h.port} · ${h.authMethod === "key" ? "key" : "password"} login`}
        actions={<StatusBadge host={h} />}
      />
      <div className="space-y-6">
        {h.status === "hostKeyChanged" ? <KeyChangedPanel host={h} canManage={canManage} /> : null}
        {h.status === "unreachable" || h.status === "authFailed" ? (
          <Callout>
            <strong>{status.label}:</strong> {status.explain}
            {h.status === "unreachable" ? " The gateway keeps retrying; what you see below is the last known state." : " Fix the credential on the host or remove and add it again."}
          </Callout>
        ) : null}

        <Card title="Status">
          <DetailList>
            <DetailItem label="Status">
              <span className="inline-flex items-center gap-2">
                <StatusBadge host={h} /> <span className="text-xs text-slate-500">{status.explain}</span>
              </span>
            </DetailItem>
            <DetailItem label="Last seen">
              <LastSeen at={h.lastSeenAt} />
            </DetailItem>
            <DetailItem label="Agent">
              <AgentBadge host={h} />
            </DetailItem>
            <DetailItem label="Containers">{h.containerCount === null ? "—" : `${h.runningCount ?? 0} running of ${h.containerCount}`}</DetailItem>
            {h.transport === "ssh" ? (
              <DetailItem label="Pinned host key">
                <span className="break-all font-mono text-xs" data-testid="pinned-key">
                  {h.hostKeyFingerprint ?? "—"}
                </span>
              </DetailItem>
            ) : null}
            {h.hostGroupName ? <DetailItem label="Host group">{h.hostGroupName}</DetailItem> : null}
            {h.labels.length ? <DetailItem label="Labels">{h.labels.join(", ")}</DetailItem> : null}
          </DetailList>
        </Card>

        <Card title="Facts">
          <FactsList facts={h.facts} />
        </Card>

        <AgentCard host={h} canManage={canManage} />

        <RemoveCard host={h} canManage={canManage} />
      </div>
    </>
  );
}

function useRefreshHost(hostId: string) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return () => Promise.all([qc.invalidateQueries(trpc.hosts.get.queryFilter({ hostId })), qc.invalidateQueries(trpc.hosts.list.pathFilter())]);
}

function KeyChangedPanel({ host: h, canManage }: { host: HostItem; canManage: boolean }) {
  const trpc = useTRPC();
  const refresh = useRefreshHost(h.id);
  const titleId = useId();
  const repin = useMutation(trpc.hosts.repin.mutationOptions({ onSuccess: refresh }));
  const presented = h.presentedFingerprint;
  return (
    <section
      aria-labelledby={titleId}
      className="space-y-4 rounded-lg border-2 border-rose-300 bg-rose-50 p-4 dark:border-rose-800 dark:bg-rose-950/40"
      data-testid="host-key-changed"
    >
      <div>
        <h2 id={titleId} className="text-base font-semibold text-rose-900 dark:text-rose-200">
          ⚠ Host key changed
        </h2>
        <p className="mt-1 text-sm text-rose-900 dark:text-rose-200">
          {h.address}:{h.port} presented a different SSH host key than the one pinned when it was added. That is expected after a reinstall or a key
          rotation, and is also what an attacker in the middle looks like. The gateway refuses to connect until you decide. It checks the key
          again every half minute or so (never sending credentials to a host that presents another one) and reconnects by itself if the host
          presents the pinned key again.
        </p>
      </div>
      <div className="grid gap-3 md:grid-cols-2">
        <div className="rounded-md border border-slate-200 bg-white p-3 dark:border-slate-700 dark:bg-slate-900">
          <h3 className="text-xs font-semibold uppercase text-slate-500">Pinned (old) key</h3>
          <p className="mt-1 break-all font-mono text-sm" data-testid="old-fingerprint">
            {h.hostKeyFingerprint ?? "—"}
          </p>
        </div>
        <div className="rounded-md border border-slate-200 bg-white p-3 dark:border-slate-700 dark:bg-slate-900">
          <h3 className="text-xs font-semibold uppercase text-slate-500">Presented (new) key</h3>
          <p className="mt-1 break-all font-mono text-sm" data-testid="new-fingerprint">
            {presented ?? "reading…"}
          </p>
        </div>
      </div>
      <p className="text-sm text-slate-700 dark:text-slate-300">
        Compare the new key with <code className="rounded bg-white px-1 font-mono text-xs dark:bg-slate-800">ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code>{" "}
        run on the host&apos;s own console before you trust it.
      </p>
      <div className="flex flex-wrap items-center gap-3">
        <Button
          disabled={!canManage || !presented || repin.isPending}
          title={!canManage ? MANAGE_REASON : undefined}
          onClick={() => presented && repin.mutate({ hostId: h.id, fingerprint: presented })}
        >
          {repin.isPending ? "Pinning…" : "Trust the new key"}
        </Button>
        <Button
          variant="secondary"
          disabled={!canManage || !h.hostKeyFingerprint || repin.isPending}
          title={!canManage ? MANAGE_REASON : "Check the host again now for the pinned key"}
          onClick={() => h.hostKeyFingerprint && repin.mutate({ hostId: h.id, fingerprint: h.hostKeyFingerprint })}
        >
          Check for the pinned key now
        </Button>
        {!canManage ? <Reason>{MANAGE_REASON}</Reason> : null}
      </div>
      {repin.error ? <ErrorText>{errorMessage(repin.error)}</ErrorText> : null}
    </section>
  );
}

function AgentCard({ host: h, canManage }: { host: HostItem; canManage: boolean }) {
  const trpc = useTRPC();
  const refresh = useRefreshHost(h.id);
  const [installing, setInstalling] = useState(false);
  const [confirmUninstall, setConfirmUninstall] = useState(false);
  const [removeData, setRemoveData] = useState(false);
  const upgrade = useMutation(trpc.hosts.upgradeAgent.mutationOptions({ onSuccess: refresh }));
  const uninstall = useMutation(
    trpc.hosts.uninstallAgent.mutationOptions({
      onSuccess: async () => {
        setConfirmUninstall(false);
        setRemoveData(false);
        await refresh();
      },
    }),
  );
  const local = h.transport === "local";
  const connected = h.status === "connected";
  const reason = !canManage ? MANAGE_REASON : !connected ? "Needs a working connection to the host." : null;
  const installedVersion = h.agentVersion;
  const showInstall = !local && (installing || (!installedVersion && h.agent !== "ok"));

  return (
    <Card title="Agent">
      <div className="space-y-4">
        <p className="text-sm">
          {local ? "Run by the gateway. " : null}
          Version: <AgentBadge host={h} />
        </p>
        {!local && !showInstall ? (
          <div className="flex flex-wrap items-center gap-2">
            <Button variant="secondary" disabled={Boolean(reason) || upgrade.isPending} title={reason ?? undefined} onClick={() => upgrade.mutate({ hostId: h.id })}>
              {upgrade.isPending ? "Upgrading…" : "Upgrade agent"}
            </Button>
            <Button variant="danger" disabled={Boolean(reason)} title={reason ?? undefined} onClick={() => { uninstall.reset(); setConfirmUninstall(true); }}>
              Uninstall agent
            </Button>
            <Button variant="ghost" disabled={Boolean(reason)} title={reason ?? undefined} onClick={() => setInstalling(true)}>
              Reinstall…
            </Button>
            <Reason>{reason}</Reason>
          </div>
        ) : null}
        {local ? (
          <div className="flex flex-wrap items-center gap-2">
            <Button variant="secondary" disabled={!canManage || upgrade.isPending} title={!canManage ? MANAGE_REASON : undefined} onClick={() => upgrade.mutate({ hostId: h.id })}>
              {upgrade.isPending ? "Restarting…" : "Restart agent"}
            </Button>
            <span className="text-xs text-slate-500">This machine&apos;s agent comes with the gateway: it is upgraded with it and removed with the host.</span>
          </div>
        ) : null}
        {showInstall ? (
          reason ? (
            <Note>No agent installed. {reason}</Note>
          ) : (
            <InstallAgent hostId={h.id} onInstalled={() => setInstalling(false)} />
          )
        ) : null}
        {upgrade.isPending ? (
          <p role="status" className="text-sm text-slate-500">
            {local ? "Restarting the agent…" : "Uploading the agent, verifying its SHA-256 and restarting it; containers keep running…"}
          </p>
        ) : null}
        {upgrade.data ? <SuccessText>{upgrade.data.version ? `Agent ${upgrade.data.version} is running.` : "The agent restarted."}</SuccessText> : null}
        {upgrade.error ? <ErrorText>Upgrade failed: {errorMessage(upgrade.error)}</ErrorText> : null}
        {uninstall.isSuccess && !confirmUninstall ? <SuccessText>The agent is uninstalled.</SuccessText> : null}
      </div>
      {confirmUninstall ? (
        <ConfirmDialog
          title={`Uninstall the agent from ${h.name}?`}
          confirmLabel="Uninstall agent"
          mutation={uninstall}
          onConfirm={() => uninstall.mutate({ hostId: h.id, removeData })}
          onClose={() => setConfirmUninstall(false)}
        >
          <p>The agent stops and its program is removed. The host stays in the list; you can install the agent again later.</p>
          <CheckboxField
            label="Also remove containers and data"
            hint="Stops and deletes every container, image, volume and network the agent manages. This cannot be undone."
            checked={removeData}
            onChange={setRemoveData}
          />
        </ConfirmDialog>
      ) : null}
    </Card>
  );
}

function RemoveCard({ host: h, canManage }: { host: HostItem; canManage: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation(
    trpc.hosts.remove.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        qc.removeQueries(trpc.hosts.get.queryFilter({ hostId: h.id }));
        await qc.invalidateQueries(trpc.hosts.list.pathFilter());
        router.push("/hosts");
      },
    }),
  );
  return (
    <Card title="Remove host">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="text-sm text-slate-600 dark:text-slate-400">
          {h.transport === "local"
            ? "The gateway stops this machine's agent and forgets the host."
            : "The gateway forgets the host and its credential. The agent and its containers keep running on the host: uninstall the agent first to remove them."}
        </p>
        <div className="flex items-center gap-2">
          {!canManage ? <Reason>{MANAGE_REASON}</Reason> : null}
          <Button variant="danger" disabled={!canManage} title={!canManage ? MANAGE_REASON : undefined} onClick={() => { remove.reset(); setConfirming(true); }}>
            Remove host
          </Button>
        </div>
      </div>
      {confirming ? (
        <ConfirmDialog
          title={`Remove ${h.name}?`}
          confirmLabel="Remove host"
          mutation={remove}
          onConfirm={() => remove.mutate({ hostId: h.id })}
          onClose={() => setConfirming(false)}
        >
          <p>
            {h.name} ({h.transport === "local" ? "this machine" : `${h.address}:${h.port}`}) disappears from the console, with its pinned key and stored
            credential. Adding it again means confirming its key again.
          </p>
        </ConfirmDialog>
      ) : null}
    </Card>
  );
}
