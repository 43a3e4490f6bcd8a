"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useId, useState } from "react";
import type { HostItem } from "@/components/hosts/host-status";
import { HostScope, permissionReason, Reason, shortId, type Coverage } from "@/components/images/host-scope";
import { ActionDialog } from "@/components/images/modal";
import { Button } from "@/components/ui/button";
import { Badge, Card, EmptyState } from "@/components/ui/card";
import { Field, FormError, Input } from "@/components/ui/field";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import type { AppRouter } from "@/server/routers/_app";
import { InUse, NAME_HINT, nameProblem } from "./shared";

type NetworkItem = inferRouterOutputs<AppRouter>["networks"]["list"][number];

/** The agent's own networks: always there, never removable. */
const BUILT_IN = new Set(["bridge", "host", "none"]);

export function NetworksView({ read, manage, initialHostId }: { read: Coverage; manage: Coverage; initialHostId: string | null }) {
  return (
    <HostScope read={read} readPermission="containers.read" initialHostId={initialHostId} what="networks">
      {(host) => <HostNetworks host={host} reason={permissionReason(manage, host, "networks.manage")} />}
    </HostScope>
  );
}

function subnetsOf(n: NetworkItem): string[] {
  const config = (n.IPAM as { Config?: { Subnet?: string }[] | null } | undefined)?.Config ?? [];
  return config.map((c) => c.Subnet).filter((s): s is string => Boolean(s));
}

function HostNetworks({ host, reason }: { host: HostItem; reason: string | null }) {
  const trpc = useTRPC();
  const networks = useQuery({ ...trpc.networks.list.queryOptions({ hostId: host.id }), retry: false });
  const [removing, setRemoving] = useState<NetworkItem | null>(null);
  return (
    <div className="space-y-6">
      <CreateNetwork hostId={host.id} reason={reason} />
      <Card
        title={networks.data ? `${networks.data.length} network${networks.data.length === 1 ? "" : "s"} on ${host.name}` : `Networks on ${host.name}`}
        actions={
          <Button variant="ghost" className="disabled:opacity-50" disabled={networks.isFetching} onClick={() => void networks.refetch()}>
            {networks.isFetching ? "Refreshing…" : "Refresh"}
          </Button>
        }
      >
        {networks.error ? (
          <p role="alert" className="text-sm text-rose-700 dark:text-rose-400">
            Could not list the networks: {errorMessage(networks.error)}
          </p>
        ) : !networks.data ? (
          <p className="text-sm text-slate-500">Loading…</p>
        ) : networks.data.length === 0 ? (
          <EmptyState title="No networks">Create one above to let containers reach each other by name.</EmptyState>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="networks-table">
              <thead className="text-xs uppercase text-slate-500">
                <tr>
                  <th className="px-2 py-2">Name</th>
                  <th className="px-2 py-2">ID</th>
                  <th className="px-2 py-2">Driver</th>
                  <th className="px-2 py-2">Subnet</th>
                  <th className="px-2 py-2">Containers</th>
                  <th className="px-2 py-2">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
                {networks.data.map((n) => {
                  const builtIn = BUILT_IN.has(n.Name);
                  const blocked = reason ?? (builtIn ? "Built into the agent: it can't be removed." : n.containers.length ? `In use by ${n.containers.join(", ")}.` : null);
                  const internal = (n as { Internal?: boolean }).Internal;
                  return (
                    <tr key={n.Id} className="align-top" data-testid={`network-${n.Name}`}>
                      <td className="px-2 py-2 font-medium">
                        {n.Name} {builtIn ? <Badge>built-in</Badge> : null} {internal ? <Badge tone="sky">internal</Badge> : null}
                      </td>
                      <td className="px-2 py-2 font-mono text-xs" title={n.Id}>
                        {shortId(n.Id)}
                      </td>
                      <td className="px-2 py-2 text-xs">{n.Driver}</td>
                      <td className="px-2 py-2 font-mono text-xs">{subnetsOf(n).join(", ") || "—"}</td>
                      <td className="px-2 py-2 text-xs">
                        <InUse names={n.containers} />
                      </td>
                      <td className="px-2 py-2 text-right">
                        <Button
                          variant="ghost"
                          className="px-2 py-1 text-rose-700 disabled:opacity-50 dark:text-rose-400"
                          disabled={Boolean(blocked)}
                          title={blocked ?? undefined}
                          aria-label={`Remove network ${n.Name}`}
                          onClick={() => setRemoving(n)}
                        >
                          Remove
                        </Button>
                        {blocked && !reason ? (
                          <div>
                            <Reason>{blocked}</Reason>
                          </div>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {reason ? (
              <p className="mt-2">
                <Reason>{reason}</Reason>
              </p>
            ) : null}
          </div>
        )}
      </Card>
      {removing ? <RemoveNetwork hostId={host.id} network={removing} onClose={() => setRemoving(null)} /> : null}
    </div>
  );
}

function CreateNetwork({ hostId, reason }: { hostId: string; reason: string | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const internalId = useId();
  const formId = useId();
  const [name, setName] = useState("");
  const [internal, setInternal] = useState(false);
  const create = useMutation(
    trpc.networks.create.mutationOptions({
      onSuccess: async () => {
        setName("");
        setInternal(false);
        await qc.invalidateQueries(trpc.networks.list.queryFilter({ hostId }));
      },
    }),
  );
  const problem = nameProblem(name);
  const server = fieldErrors(create.error).name;
  return (
    <Card title={<span id={formId}>Create a network</span>}>
      <form
        aria-labelledby={formId}
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          if (!problem && name && !reason) create.mutate({ hostId, name: name.trim(), internal });
        }}
      >
        <div className="grid gap-3 md:grid-cols-[1fr_auto_auto] md:items-end">
          <Field label="Network name" hint={NAME_HINT} error={(name && problem) || server || null}>
            <Input value={name} onChange={(e) => {
                setName(e.target.value);
                if (!create.isPending) create.reset();
              }} disabled={Boolean(reason)} autoComplete="off" spellCheck={false} placeholder="backend" />
          </Field>
          <div className="flex items-start gap-2 pb-2 text-sm">
            <input id={internalId} type="checkbox" className="mt-1" checked={internal} onChange={(e) => setInternal(e.target.checked)} disabled={Boolean(reason)} />
            <label htmlFor={internalId}>
              Internal
              <span className="block text-xs text-slate-500">No route out of the host.</span>
            </label>
          </div>
          <Button type="submit" disabled={Boolean(reason) || create.isPending || !name || Boolean(problem)} title={reason ?? undefined}>
            {create.isPending ? "Creating…" : "Create network"}
          </Button>
        </div>
        <Reason>{reason}</Reason>
        <FormError message={create.error && !server ? errorMessage(create.error) : null} />
        {create.isSuccess ? (
          <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
            Network created.
          </p>
        ) : null}
      </form>
    </Card>
  );
}

function RemoveNetwork({ hostId, network, onClose }: { hostId: string; network: NetworkItem; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries(trpc.networks.list.queryFilter({ hostId }));
  const remove = useMutation(
    trpc.networks.remove.mutationOptions({
      onSuccess: async () => {
        onClose();
        await refresh();
      },
      // In use after all (a container joined since the list was read): the agent says so; show it and the fresh list.
      onError: () => void refresh(),
    }),
  );
  return (
    <ActionDialog
      title={`Remove network ${network.Name}?`}
      confirmLabel="Remove network"
      pending={remove.isPending}
      error={remove.error ? errorMessage(remove.error) : null}
      onConfirm={() => remove.mutate({ hostId, network: network.Name })}
      onClose={onClose}
    >
      <p>Containers can no longer join it. Recreating it later gives it a new ID and possibly another subnet.</p>
    </ActionDialog>
  );
}
