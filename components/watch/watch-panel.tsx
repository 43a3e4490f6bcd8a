"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { WatchView } from "@/lib/rollouts/views";
import { shortDigest } from "@/components/rollouts/format";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { ErrorText, Loading, Note, Reason, SuccessText } from "@/components/ui/feedback";
import { DetailItem, DetailList } from "@/components/ui/details";
import { Field, FormError, Input } from "@/components/ui/field";
import { CheckboxField, FormActions, FormPanel } from "@/components/ui/form";
import { formatDate } from "@/components/ui/format";
import { DAY_NAMES, draftOf, settingsOf, windowText, type WatchDraft } from "./window";

// Registry watching: a deployment (or a stack's service) following its tag.
// Its state (the digest running, the newest seen, "update available", the
// last check and error), Check now, and its settings: interval, minimum age,
// maintenance window, pre-approved.

export type WatchTarget = { deploymentId: string } | { stackId: string; service: string };

export interface WatchRights {
  mayManage: boolean;
  manageReason?: string;
  mayPreApprove: boolean;
}

/** A deployment's watch, in a card of its own. */
export function DeploymentWatchCard({ deploymentId, rights }: { deploymentId: string; rights: WatchRights }) {
  const trpc = useTRPC();
  const watch = useQuery({ ...trpc.watches.get.queryOptions({ deploymentId }), retry: false });
  return (
    <Card title="Registry watching" actions={watch.data?.updateAvailable ? <UpdateAvailable /> : null}>
      {watch.error ? <ErrorText>{errorMessage(watch.error)}</ErrorText> : null}
      {watch.isPending ? <Loading /> : null}
      {watch.isSuccess ? <WatchPanel target={{ deploymentId }} watch={watch.data} rights={rights} /> : null}
    </Card>
  );
}

/** A stack's services and their watches; each opens its own settings. */
export function StackWatchesCard({ stackId, rights }: { stackId: string; rights: WatchRights }) {
  const trpc = useTRPC();
  const list = useQuery({ ...trpc.watches.forStack.queryOptions({ stackId }), retry: false });
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Card title="Registry watching">
      {list.error ? <ErrorText>{errorMessage(list.error)}</ErrorText> : null}
      {list.isPending ? <Loading /> : null}
      {list.data ? (
        list.data.length === 0 ? (
          <Note>No services.</Note>
        ) : (
          <div className="space-y-3">
            <DataTable testId="stack-watches" columns={["Service", "Watching", "Digest", "Last check", { label: "Actions", srOnly: true }]}>
              {list.data.map(({ service, watch, updateAvailable }) => (
                <tr key={service} aria-label={`Watch of ${service}`}>
                  <td className={`${cell} font-medium`}>
                    {service} {updateAvailable ? <UpdateAvailable /> : null}
                  </td>
                  <td className={`${cell} text-xs`}>
                    {watch ? (watch.enabled ? `every ${Math.round(watch.intervalSeconds / 60)} min, ${windowText(watch.window)}` : "paused") : "off"}
                  </td>
                  <td className={`${cell} font-mono text-xs`}>{watch ? `${shortDigest(watch.currentDigest)} (newest ${shortDigest(watch.seenDigest)})` : "—"}</td>
                  <td className={`${cell} text-xs`}>
                    {watch?.lastCheckedAt ? formatDate(watch.lastCheckedAt) : "—"}
                    {watch?.lastError ? <ErrorText small>{watch.lastError}</ErrorText> : null}
                  </td>
                  <td className={`${cell} text-right`}>
                    <Button variant="ghost" size="xs" aria-expanded={open === service} aria-label={`Watching settings of ${service}`} onClick={() => setOpen(open === service ? null : service)}>
                      {open === service ? "Close" : "Settings"}
                    </Button>
                  </td>
                </tr>
              ))}
            </DataTable>
            {open ? (
              <div className="rounded-md border border-slate-200 p-3 dark:border-slate-800">
                <h3 className="mb-2 text-sm font-semibold">Service {open}</h3>
                <WatchPanel target={{ stackId, service: open }} watch={list.data.find((x) => x.service === open)?.watch ?? null} rights={rights} />
              </div>
            ) : null}
          </div>
        )
      ) : null}
    </Card>
  );
}

function UpdateAvailable() {
  return (
    <span data-testid="update-available">
      <Badge tone="amber">update available</Badge>
    </span>
  );
}

export function WatchPanel({ target, watch, rights }: { target: WatchTarget; watch: WatchView | null; rights: WatchRights }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.watches.pathKey() });
  const check = useMutation(
    trpc.watches.checkNow.mutationOptions({
      onSuccess: async (w) => {
        setNotice(w.lastError ? null : w.updateAvailable ? "Checked: a newer image is available." : "Checked: the running image is the newest.");
        await invalidate();
        await qc.invalidateQueries({ queryKey: trpc.rollouts.pathKey() });
      },
    }),
  );
  const remove = useMutation(trpc.watches.remove.mutationOptions({ onSuccess: async () => { setNotice("Watching stopped."); await invalidate(); } }));

  if (editing) {
    return (
      <WatchForm
        target={target}
        watch={watch}
        mayPreApprove={rights.mayPreApprove}
        onCancel={() => setEditing(false)}
        onSaved={() => {
          setEditing(false);
          setNotice("Watching saved.");
        }}
      />
    );
  }
  return (
    <div className="space-y-3">
      {watch ? (
        <DetailList testId="watch-facts">
          <DetailItem label="Watching">
            <Badge tone={watch.enabled ? "green" : "slate"}>{watch.enabled ? "on" : "paused"}</Badge>
            {watch.preApproved ? (
              <span className="ml-1">
                <Badge tone="sky">pre-approved</Badge>
              </span>
            ) : null}
          </DetailItem>
          <DetailItem label="State" wide>
            <span data-testid="watch-state" data-state={watch.state.kind}>
              {watch.state.message}
              {watch.state.until ? <span className="text-xs text-slate-500"> (until {formatDate(watch.state.until)})</span> : null}
            </span>
          </DetailItem>
          <DetailItem label="Tag followed">
            <span className="font-mono text-xs">{watch.reference}</span>
          </DetailItem>
          <DetailItem label="Checks">every {Math.round(watch.intervalSeconds / 60)} min</DetailItem>
          <DetailItem label="Minimum age">{watch.minAgeSeconds ? `${Math.round(watch.minAgeSeconds / 60)} min` : "none"}</DetailItem>
          <DetailItem label="Maintenance window">{windowText(watch.window)}</DetailItem>
          <DetailItem label="Running digest">
            <span className="font-mono text-xs" title={watch.currentDigest ?? undefined}>
              {shortDigest(watch.currentDigest)}
            </span>
          </DetailItem>
          <DetailItem label="Newest digest">
            <span className="font-mono text-xs" title={watch.seenDigest ?? undefined}>
              {shortDigest(watch.seenDigest)}
            </span>
            {watch.seenAt ? <span className="text-xs text-slate-500"> since {formatDate(watch.seenAt)}</span> : null}
            {watch.updateAvailable ? (
              <span className="ml-1">
                <UpdateAvailable />
              </span>
            ) : null}
          </DetailItem>
          <DetailItem label="Last check">{watch.lastCheckedAt ? formatDate(watch.lastCheckedAt) : "not yet"}</DetailItem>
          <DetailItem label="Next check">{watch.enabled ? formatDate(watch.nextCheckAt) : "—"}</DetailItem>
          {watch.lastError ? (
            <DetailItem label="Last error" wide>
              <span className="text-rose-700 dark:text-rose-400">{watch.lastError}</span>
            </DetailItem>
          ) : null}
        </DetailList>
      ) : (
        <Note>Not watching. Berth can check the registry for a new image on this tag and roll it out on its own, after a minimum age and inside a maintenance window.</Note>
      )}
      {notice ? <SuccessText>{notice}</SuccessText> : null}
      {check.error ? <ErrorText>{errorMessage(check.error)}</ErrorText> : null}
      {remove.error ? <ErrorText>{errorMessage(remove.error)}</ErrorText> : null}
      {rights.mayManage ? (
        <div className="flex flex-wrap gap-2">
          <Button variant={watch ? "secondary" : "primary"} size="sm" onClick={() => { setNotice(null); setEditing(true); }}>
            {watch ? "Change watching" : "Watch this tag"}
          </Button>
          {watch ? (
            <>
              <Button variant="secondary" size="sm" disabled={check.isPending} onClick={() => { setNotice(null); check.mutate({ id: watch.id }); }}>
                {check.isPending ? "Checking…" : "Check now"}
              </Button>
              <Button variant="ghostDanger" size="sm" disabled={remove.isPending} onClick={() => remove.mutate({ id: watch.id })}>
                Stop watching
              </Button>
            </>
          ) : null}
        </div>
      ) : (
        <Reason>{rights.manageReason ?? "Watching needs the deploy permission on this host."}</Reason>
      )}
    </div>
  );
}

function WatchForm({
  target,
  watch,
  mayPreApprove,
  onCancel,
  onSaved,
}: {
  target: WatchTarget;
  watch: WatchView | null;
  mayPreApprove: boolean;
  onCancel: () => void;
  onSaved: () => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<WatchDraft>(() => draftOf(watch, Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"));
  const [tried, setTried] = useState(false);
  const set = useMutation(trpc.watches.set.mutationOptions());
  const { settings, problems } = settingsOf(draft, mayPreApprove);
  const shown = tried ? problems : {};
  const patch = (p: Partial<WatchDraft>) => setDraft((d) => ({ ...d, ...p }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (!settings) return;
    set.mutate(
      { ...target, ...settings },
      {
        onSuccess: async () => {
          await qc.invalidateQueries({ queryKey: trpc.watches.pathKey() });
          onSaved();
        },
      },
    );
  };
  return (
    <FormPanel title="Registry watching" onSubmit={submit}>
      <CheckboxField label="Follow the tag" hint="Check the registry on a schedule and roll out a new digest when the rules below allow." checked={draft.enabled} onChange={(v) => patch({ enabled: v })} />
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Check every (minutes)" error={shown.intervalMinutes}>
          <Input type="number" min={1} max={1440} value={draft.intervalMinutes} onChange={(e) => patch({ intervalMinutes: e.target.value })} />
        </Field>
        <Field label="Minimum image age (minutes)" hint="A new digest waits this long after it is first seen." error={shown.minAgeMinutes}>
          <Input type="number" min={0} max={43200} value={draft.minAgeMinutes} onChange={(e) => patch({ minAgeMinutes: e.target.value })} />
        </Field>
      </div>
      <CheckboxField label="Only inside a maintenance window" checked={draft.useWindow} onChange={(v) => patch({ useWindow: v })} />
      {draft.useWindow ? (
        <fieldset className="space-y-3 rounded-md border border-slate-200 p-3 dark:border-slate-800">
          <legend className="px-1 text-xs font-medium">Maintenance window</legend>
          <div className="flex flex-wrap gap-3 text-sm" role="group" aria-label="Days">
            {DAY_NAMES.map((name, day) => (
              <label key={name} className="flex items-center gap-1">
                <input type="checkbox" checked={draft.days.includes(day)} onChange={(e) => patch({ days: e.target.checked ? [...draft.days, day] : draft.days.filter((d) => d !== day) })} />
                {name}
              </label>
            ))}
            <span className="text-xs text-slate-500">None ticked: every day.</span>
          </div>
          <div className="grid gap-3 sm:grid-cols-3">
            <Field label="Window starts" error={shown.start}>
              <Input type="time" value={draft.start} onChange={(e) => patch({ start: e.target.value })} />
            </Field>
            <Field label="Window ends" hint="Before the start: the window runs past midnight." error={shown.end}>
              <Input type="time" value={draft.end} onChange={(e) => patch({ end: e.target.value })} />
            </Field>
            <Field label="Time zone" error={shown.timeZone}>
              <Input value={draft.timeZone} onChange={(e) => patch({ timeZone: e.target.value })} placeholder="UTC" />
            </Field>
          </div>
        </fieldset>
      ) : null}
      {mayPreApprove ? (
        <CheckboxField
          label="Pre-approved"
          hint="Its rollouts skip approval on hosts that require it (you approve them now)."
          checked={draft.preApproved}
          onChange={(v) => patch({ preApproved: v })}
        />
      ) : null}
      <FormError message={set.error ? errorMessage(set.error) : null} />
      <FormActions submitLabel="Save watching" pendingLabel="Saving…" pending={set.isPending} onCancel={onCancel} />
    </FormPanel>
  );
}
