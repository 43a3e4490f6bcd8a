"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useId, useState } from "react";
import type { HostItem } from "@/components/hosts/host-status";
import { HostScope, permissionReason, Reason, type Coverage } from "@/components/images/host-scope";
import { ActionDialog } from "@/components/images/modal";
import { Button } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { Field, FormError, Input } from "@/components/ui/field";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import type { AppRouter } from "@/server/routers/_app";
import { InUse, NAME_HINT, nameProblem } from "./shared";

type VolumeItem = inferRouterOutputs<AppRouter>["volumes"]["list"][number];

export function VolumesView({ read, manage, initialHostId }: { read: Coverage; manage: Coverage; initialHostId: string | null }) {
  return (
    <HostScope read={read} readPermission="containers.read" initialHostId={initialHostId} what="volumes">
      {(host) => <HostVolumes host={host} reason={permissionReason(manage, host, "volumes.manage")} />}
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
      <Card
        title={volumes.data ? `${volumes.data.length} volume${volumes.data.length === 1 ? "" : "s"} on ${host.name}` : `Volumes on ${host.name}`}
        actions={
          <Button variant="ghost" className="disabled:opacity-50" disabled={volumes.isFetching} onClick={() => void volumes.refetch()}>
            {volumes.isFetching ? "Refreshing…" : "Refresh"}
          </Button>
        }
      >
        {volumes.error ? (
          <p role="alert" className="text-sm text-rose-700 dark:text-rose-400">
            Could not list the volumes: {errorMessage(volumes.error)}
          </p>
        ) : !volumes.data ? (
          <p className="text-sm text-slate-500">Loading…</p>
        ) : volumes.data.length === 0 ? (
          <EmptyState title="No volumes">Create one above, or deploy a container with a named volume and it is created for you.</EmptyState>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="volumes-table">
              <thead className="text-xs uppercase text-slate-500">
                <tr>
                  <th className="px-2 py-2">Name</th>
                  <th className="px-2 py-2">Driver</th>
                  <th className="px-2 py-2">Mount point</th>
                  <th className="px-2 py-2">Containers</th>
                  <th className="px-2 py-2">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
                {volumes.data.map((v) => {
                  const blocked = reason ?? (v.containers.length ? `In use by ${v.containers.join(", ")}.` : null);
                  return (
                    <tr key={v.Name} className="align-top" data-testid={`volume-${v.Name}`}>
                      <td className="break-all px-2 py-2 font-medium">{v.Name}</td>
                      <td className="px-2 py-2 text-xs">{v.Driver}</td>
                      <td className="break-all px-2 py-2 font-mono text-xs">{v.Mountpoint}</td>
                      <td className="px-2 py-2 text-xs">
                        <InUse names={v.containers} />
                      </td>
                      <td className="px-2 py-2 text-right">
                        <Button
                          variant="ghost"
                          className="px-2 py-1 text-rose-700 disabled:opacity-50 dark:text-rose-400"
                          disabled={Boolean(blocked)}
                          title={blocked ?? undefined}
                          aria-label={`Remove volume ${v.Name}`}
                          onClick={() => setRemoving(v)}
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
      {removing ? <RemoveVolume hostId={host.id} volume={removing} onClose={() => setRemoving(null)} /> : null}
    </div>
  );
}

function CreateVolume({ hostId, reason }: { hostId: string; reason: string | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const formId = useId();
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.volumes.create.mutationOptions({
      onSuccess: async () => {
        setName("");
        await qc.invalidateQueries(trpc.volumes.list.queryFilter({ hostId }));
      },
    }),
  );
  const problem = nameProblem(name);
  const server = fieldErrors(create.error).name;
  return (
    <Card title={<span id={formId}>Create a volume</span>}>
      <form
        aria-labelledby={formId}
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          if (!problem && name && !reason) create.mutate({ hostId, name: name.trim() });
        }}
      >
        <div className="grid gap-3 md:grid-cols-[1fr_auto] md:items-end">
          <Field label="Volume name" hint={NAME_HINT} error={(name && problem) || server || null}>
            <Input value={name} onChange={(e) => {
                setName(e.target.value);
                if (!create.isPending) create.reset();
              }} disabled={Boolean(reason)} autoComplete="off" spellCheck={false} placeholder="pgdata" />
          </Field>
          <Button type="submit" disabled={Boolean(reason) || create.isPending || !name || Boolean(problem)} title={reason ?? undefined}>
            {create.isPending ? "Creating…" : "Create volume"}
          </Button>
        </div>
        <Reason>{reason}</Reason>
        <FormError message={create.error && !server ? errorMessage(create.error) : null} />
        {create.isSuccess ? (
          <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
            Volume created.
          </p>
        ) : null}
      </form>
    </Card>
  );
}

function RemoveVolume({ hostId, volume, onClose }: { hostId: string; volume: VolumeItem; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries(trpc.volumes.list.queryFilter({ hostId }));
  const remove = useMutation(
    trpc.volumes.remove.mutationOptions({
      onSuccess: async () => {
        onClose();
        await refresh();
      },
      // In use after all: the agent refuses and says by whom; show it and the fresh list.
      onError: () => void refresh(),
    }),
  );
  return (
    <ActionDialog
      title={`Remove volume ${volume.Name}?`}
      confirmLabel="Remove volume"
      pending={remove.isPending}
      error={remove.error ? errorMessage(remove.error) : null}
      onConfirm={() => remove.mutate({ hostId, volume: volume.Name })}
      onClose={onClose}
    >
      <p>Everything stored in it is deleted from the host. This cannot be undone.</p>
    </ActionDialog>
  );
}
