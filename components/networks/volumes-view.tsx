"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useState } from "react";
import { reasonOn, type HostCoverage } from "@/components/hosts/coverage";
import { HostScope } from "@/components/hosts/host-scope";
import type { HostItem } from "@/components/hosts/host-status";
import { useTRPC } from "@/components/trpc/client";
import { EmptyState } from "@/components/ui/card";
import { cell, ListCard } from "@/components/ui/data-table";
import type { AppRouter } from "@/server/routers/_app";
import { afterRemoval, CreateByNameCard, InUse, RemoveCell, RemoveDialog, TableReason } from "./shared";

type VolumeItem = inferRouterOutputs<AppRouter>["volumes"]["list"][number];

export function VolumesView({ read, manage, initialHostId }: { read: HostCoverage; manage: HostCoverage; initialHostId: string | null }) {
  return (
    <HostScope read={read} readPermission="containers.read" initialHostId={initialHostId} what="volumes">
      {(host) => <HostVolumes host={host} reason={reasonOn(manage, host, "volumes.manage")} />}
    </HostScope>
  );
}

function HostVolumes({ host, reason }: { host: HostItem; reason: string | null }) {
  const trpc = useTRPC();
  const volumes = useQuery({ ...trpc.volumes.list.queryOptions({ hostId: host.id }), retry: false });
  const [removing, setRemoving] = useState<VolumeItem | null>(null);
  return (
    <div className="space-y-6">
      <CreateVolume hostId={host.id} reason={reason} />
      <ListCard
        noun="volume"
        where={`on ${host.name}`}
        query={volumes}
        empty={<EmptyState title="No volumes">Create one above, or deploy a container with a named volume and it is created for you.</EmptyState>}
        testId="volumes-table"
        columns={["Name", "Driver", "Mount point", "Containers", { label: "Actions", srOnly: true }]}
        footer={<TableReason reason={reason} />}
      >
        {(v) => (
          <tr key={v.Name} className="align-top" data-testid={`volume-${v.Name}`}>
            <td className={`${cell} break-all font-medium`}>{v.Name}</td>
            <td className={`${cell} text-xs`}>{v.Driver}</td>
            <td className={`${cell} break-all font-mono text-xs`}>{v.Mountpoint}</td>
            <td className={`${cell} text-xs`}>
              <InUse names={v.containers} />
            </td>
            <RemoveCell
              what="volume"
              name={v.Name}
              blocked={reason ?? (v.containers.length ? `In use by ${v.containers.join(", ")}.` : null)}
              showReason={!reason}
              onRemove={() => setRemoving(v)}
            />
          </tr>
        )}
      </ListCard>
      {removing ? <RemoveVolume hostId={host.id} volume={removing} onClose={() => setRemoving(null)} /> : null}
    </div>
  );
}

function CreateVolume({ hostId, reason }: { hostId: string; reason: string | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const create = useMutation(trpc.volumes.create.mutationOptions({ onSuccess: () => qc.invalidateQueries(trpc.volumes.list.queryFilter({ hostId })) }));
  return (
    <CreateByNameCard
      what="volume"
      placeholder="pgdata"
      reason={reason}
      mutation={create}
      onCreate={(name, created) => create.mutate({ hostId, name }, { onSuccess: created })}
    />
  );
}

function RemoveVolume({ hostId, volume, onClose }: { hostId: string; volume: VolumeItem; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const remove = useMutation(trpc.volumes.remove.mutationOptions(afterRemoval(onClose, () => qc.invalidateQueries(trpc.volumes.list.queryFilter({ hostId })))));
  return (
    <RemoveDialog what="volume" name={volume.Name} mutation={remove} onConfirm={() => remove.mutate({ hostId, volume: volume.Name })} onClose={onClose}>
      Everything stored in it is deleted from the host. This cannot be undone.
    </RemoveDialog>
  );
}
