"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { covers, needsPermission, type HostCoverage } from "@/components/hosts/coverage";
import { StateBadge } from "@/components/containers/shared";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button, ButtonLink } from "@/components/ui/button";
import { Card, PageHeader } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { TabList } from "@/components/ui/tabs";
import { cell, DataTable } from "@/components/ui/data-table";
import { DetailItem, DetailList } from "@/components/ui/details";
import { Callout, Loading, Note, Reason, SuccessText } from "@/components/ui/feedback";
import { Field, FormError, Input } from "@/components/ui/field";
import { CheckboxField } from "@/components/ui/form";
import { formatDate } from "@/components/ui/format";
import { useStacksTRPC } from "./api";
import { StackFiles } from "./stack-files";
import { StackLogs } from "./stack-logs";
import { StackVersions } from "./stack-versions";
import { healthTone, StackStatusBadge } from "./status";
import type { ServiceAction, StackDetail as Stack } from "./types";

// One stack: what it is and who changed it last, its services and their
// containers with per-service controls, merged live logs, the current files,
// its versions with diffs and roll back, and Down.

export interface StackPermissions {
  deploy: HostCoverage;
  control: HostCoverage;
  remove: HostCoverage;
  /** containers.logs: the merged logs (the server asks for it besides stacks.read). */
  logs: HostCoverage;
  /** containers.read anywhere: container names link to their pages. */
  canReadContainers: boolean;
}

type Tab = "services" | "logs" | "files" | "versions";
const TABS: { id: Tab; label: string }[] = [
  { id: "services", label: "Services" },
  { id: "logs", label: "Logs" },
  { id: "files", label: "Files" },
  { id: "versions", label: "Versions" },
];

/** While applying, or with services on their way up, read the stack again this often. */
const BUSY_REFRESH_MS = 2_000;
const IDLE_REFRESH_MS = 10_000;

export function StackDetail({ stackId, permissions }: { stackId: string; permissions: StackPermissions }) {
  const trpc = useTRPC();
  const api = useStacksTRPC();
  const stack = useQuery({
    ...api.stacks.get.queryOptions({ stackId }),
    refetchInterval: (q) => {
      const s = q.state.data;
      const busy = s && (s.status === "applying" || s.services.some((x) => x.health === "starting" || x.running !== x.replicas));
      return busy ? BUSY_REFRESH_MS : IDLE_REFRESH_MS;
    },
  });
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  const [tab, setTab] = useState<Tab>("services");
  const [downOpen, setDownOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  if (stack.error && !stack.data) return <FormError message={errorMessage(stack.error)} />;
  if (!stack.data) return <Loading />;
  const s = stack.data;
  // A host whose group is unknown (no hosts.read) counts only by id: fails closed.
  const host = { id: s.hostId, hostGroupId: hosts.data?.find((h) => h.id === s.hostId)?.hostGroupId ?? null };
  const may = {
    deploy: covers(permissions.deploy, host),
    control: covers(permissions.control, host),
    remove: covers(permissions.remove, host),
    logs: covers(permissions.logs, host),
  };

  return (
    <>
      <PageHeader
        title={s.name}
        description={`Stack on ${s.hostName}`}
        actions={
          <div className="flex flex-wrap items-center gap-2">
            {may.deploy ? (
              <ButtonLink href={`/stacks/${s.id}/edit`} variant="secondary">
                Edit
              </ButtonLink>
            ) : (
              <Reason>Editing needs stacks.deploy on this host.</Reason>
            )}
            {may.remove ? (
              <Button variant="danger" disabled={s.status === "down"} onClick={() => setDownOpen(true)}>
                Down
              </Button>
            ) : (
              <Reason>Down needs stacks.delete on this host.</Reason>
            )}
          </div>
        }
      />
      <div className="space-y-6">
        <Card>
          <DetailList testId="stack-facts">
            <DetailItem label="Status">
              <StackStatusBadge status={s.status} />
            </DetailItem>
            <DetailItem label="Host">{s.hostName}</DetailItem>
            <DetailItem label="Version">v{s.version}</DetailItem>
            <DetailItem label="Updated">
              {formatDate(s.updatedAt)}
              {s.updatedBy ? ` by ${s.updatedBy}` : ""}
            </DetailItem>
          </DetailList>
          {s.lastError ? (
            <div className="mt-3">
              <FormError message={`Last apply failed: ${s.lastError}`} />
            </div>
          ) : null}
        </Card>
        {notice ? <SuccessText>{notice}</SuccessText> : null}

        <TabList label="Stack" tabs={TABS} selected={tab} onSelect={setTab} />
        <div role="tabpanel" aria-label={TABS.find((t) => t.id === tab)!.label}>
          {tab === "services" ? <ServicesCard stack={s} mayControl={may.control} canReadContainers={permissions.canReadContainers} /> : null}
          {tab === "logs" ? (
            may.logs ? (
              <StackLogs stackId={s.id} services={s.services.map((x) => x.name)} />
            ) : (
              <Card title="Logs">
                <Note>Reading logs needs the containers.logs permission on this host; ask an Owner or Admin for it.</Note>
              </Card>
            )
          ) : null}
          {tab === "files" ? <StackFiles source={s.source} title={`Files of version ${s.version}`} /> : null}
          {tab === "versions" ? <StackVersions stack={s} mayRollBack={may.deploy} /> : null}
        </div>
      </div>
      {downOpen ? (
        <DownDialog
          stack={s}
          onClose={() => setDownOpen(false)}
          onDone={(removed) => {
            setDownOpen(false);
            setNotice(`Stack taken down: ${removed} container${removed === 1 ? "" : "s"} removed.`);
          }}
        />
      ) : null}
    </>
  );
}

function ServicesCard({ stack, mayControl, canReadContainers }: { stack: Stack; mayControl: boolean; canReadContainers: boolean }) {
  const [action, setAction] = useState<{ service: string; action: ServiceAction } | null>(null);
  const [scaling, setScaling] = useState<{ service: string; replicas: number } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  return (
    <Card title="Services">
      {stack.services.length === 0 ? (
        <p className="text-sm text-slate-500">No services: the stack is down.</p>
      ) : (
        <DataTable testId="stack-services" columns={["Service", "Image", "Replicas", "Health", "Containers", { label: "Actions", srOnly: true }]}>
          {stack.services.map((svc) => (
            <tr key={svc.name} data-testid="service-row" aria-label={`Service ${svc.name}`}>
              <td className={`${cell} font-medium`}>{svc.name}</td>
              <td className={`${cell} font-mono text-xs`}>{svc.image}</td>
              <td className={`${cell} tabular-nums`} data-testid="service-replicas">
                {svc.running}/{svc.replicas}
              </td>
              <td className={cell}>{svc.health ? <Badge tone={healthTone(svc.health)}>{svc.health}</Badge> : <span className="text-xs text-slate-500">no check</span>}</td>
              <td className={cell}>
                <ul className="space-y-1">
                  {svc.containers.map((c) => (
                    <li key={c.id} className="flex flex-wrap items-center gap-2 text-xs">
                      {canReadContainers ? (
                        <Link href={`/containers/${stack.hostId}/${c.id}`} className="font-mono text-sky-700 hover:underline dark:text-sky-400">
                          {c.name}
                        </Link>
                      ) : (
                        <span className="font-mono">{c.name}</span>
                      )}
                      <StateBadge state={c.state} />
                      {c.health ? <Badge tone={healthTone(c.health)}>{c.health}</Badge> : null}
                    </li>
                  ))}
                  {svc.containers.length === 0 ? <li className="text-xs text-slate-500">none</li> : null}
                </ul>
              </td>
              <td className={`${cell} text-right`}>
                {mayControl ? (
                  <div className="flex flex-wrap justify-end gap-1">
                    {(["start", "stop", "restart"] as const).map((a) => (
                      <Button key={a} variant="ghost" size="xs" aria-label={`${a[0]!.toUpperCase()}${a.slice(1)} ${svc.name}`} onClick={() => setAction({ service: svc.name, action: a })}>
                        {a[0]!.toUpperCase() + a.slice(1)}
                      </Button>
                    ))}
                    <Button variant="ghost" size="xs" aria-label={`Scale ${svc.name}`} onClick={() => setScaling({ service: svc.name, replicas: svc.replicas })}>
                      Scale
                    </Button>
                  </div>
                ) : (
                  <Reason>{needsPermission("stacks.control")}</Reason>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {done ? <SuccessText className="mt-3">{done}</SuccessText> : null}
      {action ? <ServiceActionDialog stackId={stack.id} {...action} onClose={() => setAction(null)} onDone={(msg) => { setAction(null); setDone(msg); }} /> : null}
      {scaling ? <ScaleDialog stackId={stack.id} {...scaling} onClose={() => setScaling(null)} onDone={(msg) => { setScaling(null); setDone(msg); }} /> : null}
    </Card>
  );
}

const ACTION_WORD: Record<ServiceAction, { verb: string; done: string; explain: string }> = {
  start: { verb: "Start", done: "started", explain: "Starts every container of the service that isn't running." },
  stop: { verb: "Stop", done: "stopped", explain: "Stops every container of the service. Its restart policy won't bring them back until started." },
  restart: { verb: "Restart", done: "restarted", explain: "Restarts every container of the service, one after the other." },
};

function ServiceActionDialog({ stackId, service, action, onClose, onDone }: { stackId: string; service: string; action: ServiceAction; onClose: () => void; onDone: (message: string) => void }) {
  const api = useStacksTRPC();
  const qc = useQueryClient();
  const mutation = useMutation(api.stacks.serviceAction.mutationOptions());
  const word = ACTION_WORD[action];
  return (
    <ConfirmDialog
      title={`${word.verb} ${service}?`}
      confirmLabel={word.verb}
      mutation={mutation}
      onClose={onClose}
      onConfirm={() =>
        mutation.mutate(
          { stackId, service, action },
          {
            onSuccess: async (r) => {
              await qc.invalidateQueries({ queryKey: api.stacks.pathKey() });
              onDone(`${service}: ${r.containers} container${r.containers === 1 ? "" : "s"} ${word.done}.`);
            },
          },
        )
      }
    >
      <p>{word.explain}</p>
    </ConfirmDialog>
  );
}

function ScaleDialog({ stackId, service, replicas, onClose, onDone }: { stackId: string; service: string; replicas: number; onClose: () => void; onDone: (message: string) => void }) {
  const api = useStacksTRPC();
  const qc = useQueryClient();
  const mutation = useMutation(api.stacks.scale.mutationOptions());
  const [value, setValue] = useState(String(replicas));
  const n = Number(value);
  const problem = !/^\d+$/.test(value) || n > 100 ? "A whole number from 0 to 100." : null;
  return (
    <ConfirmDialog
      title={`Scale ${service}`}
      confirmLabel="Scale"
      mutation={mutation}
      blocked={problem ?? (n === replicas ? "That is the current count." : null)}
      onClose={onClose}
      onConfirm={() =>
        mutation.mutate(
          { stackId, service, replicas: n },
          {
            onSuccess: async (r) => {
              await qc.invalidateQueries({ queryKey: api.stacks.pathKey() });
              onDone(`${service} scaled to ${r.replicas} replica${r.replicas === 1 ? "" : "s"}.`);
            },
          },
        )
      }
    >
      <Field label="Replicas" error={problem}>
        <Input type="number" min={0} max={100} value={value} onChange={(e) => setValue(e.target.value)} />
      </Field>
      <p className="text-xs text-slate-500">Now {replicas}. Fewer removes the highest-numbered containers; more creates new ones from the current version.</p>
    </ConfirmDialog>
  );
}

function DownDialog({ stack, onClose, onDone }: { stack: Stack; onClose: () => void; onDone: (removed: number) => void }) {
  const api = useStacksTRPC();
  const qc = useQueryClient();
  const mutation = useMutation(api.stacks.down.mutationOptions());
  const [volumes, setVolumes] = useState(false);
  return (
    <ConfirmDialog
      title={`Take ${stack.name} down?`}
      confirmLabel={volumes ? "Down and remove volumes" : "Down"}
      mutation={mutation}
      onClose={onClose}
      onConfirm={() =>
        mutation.mutate(
          { stackId: stack.id, volumes },
          {
            onSuccess: async (r) => {
              await qc.invalidateQueries({ queryKey: api.stacks.pathKey() });
              onDone(r.removed);
            },
          },
        )
      }
    >
      <p>
        Stops and removes every container of the stack on {stack.hostName}, and its networks. Named volumes are kept unless you tick the box; its versions stay, so you can apply it
        again.
      </p>
      <CheckboxField label="Also remove volumes" hint="The stack's named volumes (not external ones) and their data." checked={volumes} onChange={setVolumes} disabled={mutation.isPending} />
      {volumes ? <Callout>The data in the stack&apos;s volumes is deleted for good. This can&apos;t be undone.</Callout> : null}
    </ConfirmDialog>
  );
}
