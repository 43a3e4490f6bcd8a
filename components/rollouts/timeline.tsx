"use client";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { RolloutView } from "@/lib/rollouts/views";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { ErrorText, Loading, Note, Reason, SuccessText } from "@/components/ui/feedback";
import { formatDate } from "@/components/ui/format";
import { Pagination } from "@/components/ui/pagination";
import { actorLabel, digestChanges, formatDuration, isActive, STATUS_LABEL, TRIGGER_LABEL } from "./format";
import { DigestChange, LogTail, RolloutStatusBadge, SpecChanges, Steps, Verdict } from "./parts";

// The timeline of a deployment's or a stack's rollouts, newest first: who or
// what asked, the digests before and after, the result (with the reason and
// the new container's last log lines when it failed), how long it took; a
// running one followed live; "Roll back to this version" on a succeeded one.

export type TimelineTarget = { deploymentId: string } | { stackId: string };

const PAGE_SIZE = 10;
/** The list is read again this often while something on it can still change, else this often (a webhook may start one). */
const ACTIVE_REFRESH_MS = 2_000;
const IDLE_REFRESH_MS = 5_000;
/** A running rollout is read every second, at most this many times (15 minutes); then "Refresh" follows it. */
const LIVE_POLL_MS = 1_000;
const LIVE_POLL_MAX = 900;

export function RolloutTimeline({ target, mayRollback, rollbackReason }: { target: TimelineTarget; mayRollback: boolean; rollbackReason?: string }) {
  const trpc = useTRPC();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const [notice, setNotice] = useState<string | null>(null);
  const list = useQuery({
    ...trpc.rollouts.list.queryOptions({ ...target, ...(cursor ? { cursor } : {}), limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((r) => isActive(r.status)) ? ACTIVE_REFRESH_MS : IDLE_REFRESH_MS),
  });
  const page = cursors.length;
  return (
    <Card title="Rollouts">
      {list.error && !list.data ? <ErrorText>{errorMessage(list.error)}</ErrorText> : null}
      {!list.data && !list.error ? <Loading /> : null}
      {notice ? <SuccessText className="mb-3">{notice}</SuccessText> : null}
      {list.data ? (
        list.data.items.length === 0 ? (
          <Note>No rollouts yet. Updates from the console or the API, webhook calls, registry watching and roll backs each appear here.</Note>
        ) : (
          <ol className="space-y-3" aria-label="Rollout timeline" data-testid="rollout-timeline">
            {list.data.items.map((r) => (
              <TimelineEntry key={r.id} rollout={r} mayRollback={mayRollback} rollbackReason={rollbackReason} onRolledBack={setNotice} />
            ))}
          </ol>
        )
      ) : null}
      {list.data && (page > 1 || list.data.nextCursor) ? (
        <Pagination
          position={`Page ${page}`}
          previous={{ label: "Newer", disabled: page === 1, onClick: () => setCursors((c) => c.slice(0, -1)) }}
          next={{ label: "Older", disabled: !list.data.nextCursor, onClick: () => list.data?.nextCursor && setCursors((c) => [...c, list.data!.nextCursor!]) }}
        />
      ) : null}
    </Card>
  );
}

function TimelineEntry({
  rollout: r,
  mayRollback,
  rollbackReason,
  onRolledBack,
}: {
  rollout: RolloutView;
  mayRollback: boolean;
  rollbackReason?: string;
  onRolledBack: (message: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [rollingBack, setRollingBack] = useState(false);
  const active = isActive(r.status);
  return (
    <li
      className="rounded-md border border-slate-200 p-3 dark:border-slate-800"
      data-testid="rollout-entry"
      data-rollout-id={r.id}
      data-status={r.status}
      data-trigger={r.trigger}
      data-digest-after={r.digestAfter ?? ""}
      aria-label={`Rollout by ${TRIGGER_LABEL[r.trigger]}, ${STATUS_LABEL[r.status]}`}
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <RolloutStatusBadge status={r.status} />
          <Badge tone="slate">{TRIGGER_LABEL[r.trigger]}</Badge>
          <span className="text-slate-600 dark:text-slate-400">
            by <span className="font-medium text-slate-800 dark:text-slate-200">{actorLabel(r.actor)}</span>
          </span>
          <span className="text-xs text-slate-500">{formatDate(r.createdAt)}</span>
          {r.durationMs != null ? <span className="text-xs text-slate-500">took {formatDuration(r.durationMs)}</span> : null}
        </div>
        <div className="flex flex-wrap items-center gap-2">
          {(r.status === "queued" || r.status === "awaitingApproval") && mayRollback ? <CancelButton id={r.id} /> : null}
          {r.canRollback ? (
            mayRollback ? (
              <Button variant="secondary" size="sm" onClick={() => setRollingBack(true)}>
                Roll back to this version
              </Button>
            ) : (
              <Reason>{rollbackReason ?? "Rolling back needs the deploy permission on this host."}</Reason>
            )
          ) : null}
        </div>
      </div>
      <div className="mt-2 grid gap-x-6 gap-y-1 text-sm sm:grid-cols-2">
        <div>
          <span className="text-xs text-slate-500">Digest </span>
          <DigestChange rollout={r} />
        </div>
        <div className="space-y-0.5 text-xs">
          {r.imageRef ? <div className="font-mono [overflow-wrap:anywhere]">{r.imageRef}</div> : null}
          {r.services.length ? <div>Services: {r.services.join(", ")}</div> : null}
          {r.approvedBy ? <div>Approved by {r.approvedBy}</div> : null}
          {r.strategy ? <div>Strategy: {r.strategy}</div> : null}
          {r.rollbackOfId ? <div>Rolls back to an earlier version</div> : null}
        </div>
      </div>
      {r.reason ? (
        r.status === "failed" || r.status === "rejected" ? (
          <ErrorText className="mt-2">{r.reason}</ErrorText>
        ) : (
          <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">{r.reason}</p>
        )
      ) : null}
      {active ? <LiveRollout id={r.id} /> : null}
      {r.status === "failed" ? <FailureLogs id={r.id} /> : null}
      <div className="mt-2">
        <Button variant="ghost" size="xs" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          {open ? "Hide details" : "Details"}
        </Button>
        {open ? <RolloutDetails id={r.id} /> : null}
      </div>
      {rollingBack ? (
        <RollbackDialog
          rollout={r}
          onClose={() => setRollingBack(false)}
          onDone={(message) => {
            setRollingBack(false);
            onRolledBack(message);
          }}
        />
      ) : null}
    </li>
  );
}

/** A rollout that can still change, read every second (bounded); once it finishes the list is read again. */
function LiveRollout({ id }: { id: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const live = useQuery({
    ...trpc.rollouts.get.queryOptions({ id }),
    refetchInterval: (q) => (q.state.data && !isActive(q.state.data.status) ? false : q.state.dataUpdateCount < LIVE_POLL_MAX ? LIVE_POLL_MS : false),
  });
  const finished = live.data ? !isActive(live.data.status) : false;
  useEffect(() => {
    if (finished) void qc.invalidateQueries({ queryKey: trpc.rollouts.list.queryKey() });
  }, [finished, qc, trpc]);
  if (!live.data) return null;
  const last = live.data.steps[live.data.steps.length - 1];
  return (
    <div className="mt-2 text-xs text-slate-600 dark:text-slate-400" role="status" data-testid="rollout-live">
      {last ? (
        <>
          <span className="font-medium">{last.phase}</span>: {last.message}
        </>
      ) : (
        `${STATUS_LABEL[live.data.status]}…`
      )}
      {live.data.approval?.status === "waiting" ? <span> · waiting for an approver until {formatDate(live.data.approval.expiresAt)}</span> : null}
    </div>
  );
}

function FailureLogs({ id }: { id: string }) {
  const trpc = useTRPC();
  const detail = useQuery({ ...trpc.rollouts.get.queryOptions({ id }), staleTime: Infinity });
  return detail.data?.logTail ? (
    <div className="mt-2">
      <LogTail text={detail.data.logTail} />
    </div>
  ) : null;
}

function RolloutDetails({ id }: { id: string }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.rollouts.get.queryOptions({ id }));
  if (detail.error) return <ErrorText small>{errorMessage(detail.error)}</ErrorText>;
  if (!detail.data) return <Loading />;
  const d = detail.data;
  return (
    <div className="mt-2 space-y-3 rounded bg-slate-50 p-3 dark:bg-slate-950" data-testid="rollout-details">
      <section>
        <h4 className="mb-1 text-xs font-semibold uppercase text-slate-500">Spec changes</h4>
        <SpecChanges changes={d.specDiff} />
      </section>
      <section>
        <h4 className="mb-1 text-xs font-semibold uppercase text-slate-500">Policy</h4>
        <Verdict verdict={d.verdict} />
      </section>
      {d.approval ? (
        <section className="text-xs">
          <h4 className="mb-1 font-semibold uppercase text-slate-500">Approval</h4>
          <p>
            {d.approval.status}
            {d.approval.requestedLabel ? `, asked by ${d.approval.requestedLabel}` : ""}
            {d.approval.decidedLabel ? `, decided by ${d.approval.decidedLabel}` : ""}
            {d.approval.decidedAt ? ` on ${formatDate(d.approval.decidedAt)}` : ""}
            {d.approval.runAt ? `, to run at ${formatDate(d.approval.runAt)}` : ""}
          </p>
          {d.approval.comment ? <p className="italic">“{d.approval.comment}”</p> : null}
        </section>
      ) : null}
      <section>
        <h4 className="mb-1 text-xs font-semibold uppercase text-slate-500">Steps</h4>
        <Steps steps={d.steps} />
      </section>
      {d.status !== "failed" ? <LogTail text={d.logTail} /> : null}
    </div>
  );
}

function RollbackDialog({ rollout, onClose, onDone }: { rollout: RolloutView; onClose: () => void; onDone: (message: string) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const mutation = useMutation(trpc.rollouts.rollback.mutationOptions());
  const changes = digestChanges(rollout).filter((c) => c.after);
  return (
    <ConfirmDialog
      title="Roll back to this version?"
      confirmLabel="Roll back"
      mutation={mutation}
      onClose={onClose}
      onConfirm={() =>
        mutation.mutate(
          { rolloutId: rollout.id },
          {
            onSuccess: async (r) => {
              await qc.invalidateQueries({ queryKey: trpc.rollouts.pathKey() });
              await qc.invalidateQueries({ queryKey: trpc.deployments.pathKey() });
              onDone(r.status === "awaitingApproval" ? "Roll back requested: it waits for an approver." : "Roll back queued: it appears on the timeline.");
            },
          },
        )
      }
    >
      <p>
        {rollout.target.kind === "deployment" ? "The deployment" : "The stack"} <strong>{rollout.target.name}</strong> on {rollout.hostName} is deployed again at the
        version this rollout deployed, by digest (not by tag, which may have moved since):
      </p>
      <ul className="space-y-1 font-mono text-xs [overflow-wrap:anywhere]" data-testid="rollback-digests">
        {changes.map((c) => (
          <li key={c.service ?? ""}>
            {c.service ? <span className="font-sans">{c.service}: </span> : null}
            {c.after}
          </li>
        ))}
      </ul>
      <p className="text-xs text-slate-500">It runs as a new rollout with the same health gate; if the old version won&apos;t stay up, what runs now comes back.</p>
    </ConfirmDialog>
  );
}

/** Withdraws a rollout that hasn't started (its requester or an approver may; the server decides). */
function CancelButton({ id }: { id: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const cancel = useMutation(
    trpc.rollouts.cancel.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await qc.invalidateQueries({ queryKey: trpc.rollouts.pathKey() });
      },
    }),
  );
  return (
    <span className="inline-flex flex-col items-end">
      {confirming ? (
        <span className="inline-flex items-center gap-1">
          <Button variant="danger" size="sm" disabled={cancel.isPending} onClick={() => cancel.mutate({ id })}>
            {cancel.isPending ? "Cancelling…" : "Cancel it"}
          </Button>
          <Button variant="ghost" size="sm" disabled={cancel.isPending} onClick={() => setConfirming(false)}>
            Keep
          </Button>
        </span>
      ) : (
        <Button variant="ghostDanger" size="sm" onClick={() => setConfirming(true)}>
          Cancel rollout
        </Button>
      )}
      {cancel.error ? <ErrorText small>{errorMessage(cancel.error)}</ErrorText> : null}
    </span>
  );
}
