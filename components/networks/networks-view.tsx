"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useState } from "react";
import { reasonOn, type HostCoverage } from "@/components/hosts/coverage";
import { HostScope } from "@/components/hosts/host-scope";
import type { HostItem } from "@/components/hosts/host-status";
import { useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { EmptyState } from "@/components/ui/card";
import { cell, ListCard } from "@/components/ui/data-table";
import { CheckboxField } from "@/components/ui/form";
import { shortId } from "@/components/ui/format";
import type { AppRouter } from "@/server/routers/_app";
import { afterRemoval, CreateByNameCard, InUse, RemoveCell, RemoveDialog, TableReason } from "./shared";

type NetworkItem = inferRouterOutputs<AppRouter>["networks"]["list"][number];

/** The agent's own networks: always there, never removable. */
const BUILT_IN = new Set(["bridge", "host", "none"]);

export function NetworksView({ read, manage, initialHostId }: { read: HostCoverage; manage: HostCoverage; initialHostId: string | null }) {
  return (
    <HostScope read={read} readPermission="containers.read" initialHostId={initialHostId} what="networks">
      {(host) => <HostNetworks host={host} reason={reasonOn(manage, host, "networks.manage")} />}
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
      <ListCard
        noun="network"
        where={`on ${host.name}`}
        query={networks}
        empty={<EmptyState title="No networks">Create one above to let containers reach each other by name.</EmptyState>}
        testId="networks-table"
        columns={["Name", "ID", "Driver", "Subnet", "Containers", { label: "Actions", srOnly: true }]}
        footer={<TableReason reason={reason} />}
      >
        {(n) => {
          const builtIn = BUILT_IN.has(n.Name);
          const blocked = reason ?? (builtIn ? "Built into the agent: it can't be removed." : n.containers.length ? `In use by ${n.containers.join(", ")}.` : null);
          const internal = (n as { Internal?: boolean }).Internal;
          return (
            <tr key={n.Id} className="align-top" data-testid={`network-${n.Name}`}>
              <td className={`${cell} font-medium`}>
                {n.Name} {builtIn ? <Badge>built-in</Badge> : null} {internal ? <Badge tone="sky">internal</Badge> : null}
              </td>
              <td className={`${cell} font-mono text-xs`} title={n.Id}>
                {shortId(n.Id)}
              </td>
              <td className={`${cell} text-xs`}>{n.Driver}</td>
              <td className={`${cell} font-mono text-xs`}>{subnetsOf(n).join(", ") || "—"}</td>
              <td className={`${cell} text-xs`}>
                <InUse names={n.containers} />
              </td>
              <RemoveCell what="network" name={n.Name} blocked={blocked} showReason={!reason} onRemove={() => setRemoving(n)} />
            </tr>
          );
        }}
      </ListCard>
      {removing ? <RemoveNetwork hostId={host.id} network={removing} onClose={() => setRemoving(null)} /> : null}
    </div>
  );
}

function CreateNetwork({ hostId, reason }: { hostId: string; reason: string | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [internal, setInternal] = useState(false);
  const create = useMutation(trpc.networks.create.mutationOptions({ onSuccess: () => qc.invalidateQueries(trpc.networks.list.queryFilter({ hostId })) }));
  return (
    <CreateByNameCard
      what="network"
      placeholder="backend"
      reason={reason}
      mutation={create}
      onCreate={(name, created) =>
        create.mutate(
          { hostId, name, internal },
          {
            onSuccess: () => {
              created();
              setInternal(false);
            },
          },
        )
      }
      extra={
        <div className="pb-2">
          <CheckboxField label="Internal" hint="No route out of the host." checked={internal} onChange={setInternal} disabled={Boolean(reason)} />
        </div>
      }
    />
  );
}

function RemoveNetwork({ hostId, network, onClose }: { hostId: string; network: NetworkItem; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const remove = useMutation(trpc.networks.remove.mutationOptions(afterRemoval(onClose, () => qc.invalidateQueries(trpc.networks.list.queryFilter({ hostId })))));
  return (
    <RemoveDialog what="network" name={network.Name} mutation={remove} onConfirm={() => remove.mutate({ hostId, network: network.Name })} onClose={onClose}>
      Containers can no longer join it. Recreating it later gives it a new ID and possibly another subnet.
    </RemoveDialog>
  );
}
