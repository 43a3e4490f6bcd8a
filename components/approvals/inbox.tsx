"use client";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import type { ApprovalStatusName, ApprovalView } from "@/lib/rollouts/views";
import { actorLabel, targetHref, TRIGGER_LABEL } from "@/components/rollouts/format";
import { DigestChange, RolloutStatusBadge, SpecChanges, Verdict } from "@/components/rollouts/parts";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge, type Tone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Callout, ErrorText, Loading, Note, SuccessText } from "@/components/ui/feedback";
import { Field, FormError, Input, inputClass } from "@/components/ui/field";
import { FormActions, FormPanel } from "@/components/ui/form";
import { formatDate } from "@/components/ui/format";
import { Pagination } from "@/components/ui/pagination";

// The approvals inbox: requests waiting for a decision, each with its full
// diff (digests, spec changes, policy verdict), who asked and until when;
// approve (now or at a chosen time) or reject with a comment, where the viewer
// may decide; the decided ones below.

const REFRESH_MS = 10_000;
const DECIDED: ApprovalStatusName[] = ["approved", "rejected", "expired", "cancelled"];
const DECIDED_PAGE = 20;

const APPROVAL_TONE: Record<ApprovalStatusName, Tone> = { waiting: "amber", approved: "green", rejected: "red", expired: "slate", cancelled: "slate" };

export function ApprovalsInbox({ viewerId }: { viewerId: string }) {
  const trpc = useTRPC();
  const [notice, setNotice] = useState<string | null>(null);
  const waiting = useQuery({ ...trpc.approvals.list.queryOptions({ status: ["waiting"], limit: 100 }), refetchInterval: REFRESH_MS });
  return (
    <div className="space-y-6">
      {notice ? <SuccessText>{notice}</SuccessText> : null}
      <section aria-labelledby="waiting-heading" className="space-y-3">
        <h2 id="waiting-heading" className="text-lg font-semibold">
          Waiting
        </h2>
        {waiting.error ? <ErrorText>{errorMessage(waiting.error)}</ErrorText> : null}
        {waiting.isPending ? <Loading /> : null}
        {waiting.data ? (
          waiting.data.items.length === 0 ? (
            <Note>Nothing waits for a decision.</Note>
          ) : (
            <ul className="space-y-4" aria-label="Waiting requests">
              {waiting.data.items.map((a) => (
                <ApprovalCard key={a.id} approval={a} viewerId={viewerId} onDecided={setNotice} />
              ))}
            </ul>
          )
        ) : null}
      </section>
      <DecidedList viewerId={viewerId} />
    </div>
  );
}

function DecidedList({ viewerId }: { viewerId: string }) {
  const trpc = useTRPC();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const decided = useQuery({
    ...trpc.approvals.list.queryOptions({ status: DECIDED, limit: DECIDED_PAGE, ...(cursor ? { cursor } : {}) }),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
  });
  const page = cursors.length;
  return (
    <section aria-labelledby="decided-heading" className="space-y-3">
      <h2 id="decided-heading" className="text-lg font-semibold">
        Decided
      </h2>
      {decided.error ? <ErrorText>{errorMessage(decided.error)}</ErrorText> : null}
      {decided.isPending ? <Loading /> : null}
      {decided.data ? (
        decided.data.items.length === 0 ? (
          <Note>No decided requests yet.</Note>
        ) : (
          <ul className="space-y-4" aria-label="Decided requests">
            {decided.data.items.map((a) => (
              <ApprovalCard key={a.id} approval={a} viewerId={viewerId} onDecided={() => undefined} />
            ))}
          </ul>
        )
      ) : null}
      {decided.data && (page > 1 || decided.data.nextCursor) ? (
        <Pagination
          position={`Page ${page}`}
          previous={{ label: "Newer", disabled: page === 1, onClick: () => setCursors((c) => c.slice(0, -1)) }}
          next={{ label: "Older", disabled: !decided.data.nextCursor, onClick: () => decided.data?.nextCursor && setCursors((c) => [...c, decided.data!.nextCursor!]) }}
        />
      ) : null}
    </section>
  );
}

function ApprovalCard({ approval: a, viewerId, onDecided }: { approval: ApprovalView; viewerId: string; onDecided: (message: string) => void }) {
  const [deciding, setDeciding] = useState<"approve" | "reject" | null>(null);
  const r = a.rollout;
  const mine = a.requestedById === viewerId;
  return (
    <li data-testid="approval-request" data-status={a.status} aria-label={`Request for ${r.target.name}`}>
      <Card
        title={
          <span className="flex flex-wrap items-center gap-2">
            <Link href={targetHref(r.target)} className="text-sky-700 hover:underline dark:text-sky-400">
              {r.target.name}
            </Link>
            <span className="font-normal text-slate-500">
              {r.target.kind} on {r.hostName}
            </span>
            <Badge tone={APPROVAL_TONE[a.status]}>{a.status}</Badge>
          </span>
        }
        actions={
          a.canDecide && !deciding ? (
            <div className="flex gap-2">
              <Button size="sm" onClick={() => setDeciding("approve")}>
                Approve
              </Button>
              <Button size="sm" variant="danger" onClick={() => setDeciding("reject")}>
                Reject
              </Button>
            </div>
          ) : null
        }
      >
        <div className="space-y-3 text-sm">
          <p>
            {TRIGGER_LABEL[r.trigger]} by <strong>{a.requestedLabel ?? actorLabel(r.actor)}</strong> on {formatDate(a.createdAt)}
            {a.status === "waiting" ? <> · expires {formatDate(a.expiresAt)}</> : null}
          </p>
          {mine && a.status === "waiting" ? <Callout tone="slate">You requested this: another approver decides.</Callout> : null}
          {a.status !== "waiting" ? (
            <p className="text-sm">
              {a.status === "expired" ? "Expired without a decision" : a.status === "cancelled" ? "Cancelled" : `${a.status === "approved" ? "Approved" : "Rejected"}`}
              {a.decidedLabel ? ` by ${a.decidedLabel}` : ""}
              {a.decidedAt ? ` on ${formatDate(a.decidedAt)}` : ""}
              {a.runAt ? `, to run at ${formatDate(a.runAt)}` : ""}
              {a.comment ? <span className="italic"> — “{a.comment}”</span> : null}
              <span className="ml-2">
                Rollout: <RolloutStatusBadge status={r.status} />
              </span>
            </p>
          ) : null}
          <div className="grid gap-4 md:grid-cols-2">
            <div>
              <h3 className="mb-1 text-xs font-semibold uppercase text-slate-500">Image</h3>
              {r.imageRef ? <div className="font-mono text-xs [overflow-wrap:anywhere]">{r.imageRef}</div> : null}
              <DigestChange rollout={r} />
            </div>
            <div>
              <h3 className="mb-1 text-xs font-semibold uppercase text-slate-500">Policy</h3>
              <Verdict verdict={r.verdict} />
            </div>
          </div>
          <div>
            <h3 className="mb-1 text-xs font-semibold uppercase text-slate-500">Spec changes</h3>
            <SpecChanges changes={r.specDiff} />
          </div>
          {deciding === "approve" ? <ApproveForm approval={a} onCancel={() => setDeciding(null)} onDone={(m) => { setDeciding(null); onDecided(m); }} /> : null}
          {deciding === "reject" ? <RejectForm approval={a} onCancel={() => setDeciding(null)} onDone={(m) => { setDeciding(null); onDecided(m); }} /> : null}
        </div>
      </Card>
    </li>
  );
}

/** "YYYY-MM-DDTHH:MM" in local time, for a datetime-local input. */
function localInputValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function useDecisionDone() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return async () => {
    await Promise.all([qc.invalidateQueries({ queryKey: trpc.approvals.pathKey() }), qc.invalidateQueries({ queryKey: trpc.rollouts.pathKey() })]);
  };
}

function ApproveForm({ approval, onCancel, onDone }: { approval: ApprovalView; onCancel: () => void; onDone: (message: string) => void }) {
  const trpc = useTRPC();
  const refresh = useDecisionDone();
  const approve = useMutation(trpc.approvals.approve.mutationOptions());
  const [comment, setComment] = useState("");
  const [when, setWhen] = useState<"now" | "later">("now");
  const [runAt, setRunAt] = useState(() => localInputValue(new Date(Date.now() + 60 * 60 * 1000)));
  const at = when === "later" ? new Date(runAt) : null;
  const problem =
    at && Number.isNaN(at.getTime())
      ? "Pick a date and time."
      : at && at.getTime() <= Date.now()
        ? "Pick a time in the future."
        : at && at.getTime() > new Date(approval.expiresAt).getTime()
          ? `Before the request expires (${formatDate(approval.expiresAt)}).`
          : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    approve.mutate(
      { id: approval.id, comment: comment.trim(), runAt: at },
      {
        onSuccess: async () => {
          await refresh();
          onDone(at ? `Approved: ${approval.rollout.target.name} runs at ${formatDate(at)}.` : `Approved: ${approval.rollout.target.name} runs now.`);
        },
      },
    );
  };
  return (
    <FormPanel title="Approve" onSubmit={submit}>
      <Field label="Comment" hint="Optional; kept with the decision in the audit log.">
        <textarea className={inputClass} rows={2} maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} />
      </Field>
      <fieldset className="space-y-1 text-sm">
        <legend className="text-sm font-medium">When</legend>
        <label className="flex items-center gap-2">
          <input type="radio" name={`when-${approval.id}`} checked={when === "now"} onChange={() => setWhen("now")} /> Run now
        </label>
        <label className="flex items-center gap-2">
          <input type="radio" name={`when-${approval.id}`} checked={when === "later"} onChange={() => setWhen("later")} /> Run at a chosen time
        </label>
      </fieldset>
      {when === "later" ? (
        <Field label="Run at" error={problem}>
          <Input type="datetime-local" value={runAt} onChange={(e) => setRunAt(e.target.value)} />
        </Field>
      ) : null}
      <FormError message={approve.error ? errorMessage(approve.error) : null} />
      <FormActions submitLabel="Approve" pendingLabel="Approving…" pending={approve.isPending} disabled={Boolean(problem)} onCancel={onCancel} />
    </FormPanel>
  );
}

function RejectForm({ approval, onCancel, onDone }: { approval: ApprovalView; onCancel: () => void; onDone: (message: string) => void }) {
  const trpc = useTRPC();
  const refresh = useDecisionDone();
  const reject = useMutation(trpc.approvals.reject.mutationOptions());
  const [comment, setComment] = useState("");
  const [tried, setTried] = useState(false);
  const problem = comment.trim() ? null : "Say why: the requester reads it.";
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (problem) return;
    reject.mutate(
      { id: approval.id, comment: comment.trim() },
      {
        onSuccess: async () => {
          await refresh();
          onDone(`Rejected: ${approval.rollout.target.name} stays as it is.`);
        },
      },
    );
  };
  return (
    <FormPanel title="Reject" onSubmit={submit}>
      <Field label="Reason for rejecting" error={tried ? problem : null}>
        <textarea className={inputClass} rows={2} maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} />
      </Field>
      <FormError message={reject.error ? errorMessage(reject.error) : null} />
      <FormActions submitLabel="Reject" pendingLabel="Rejecting…" pending={reject.isPending} onCancel={onCancel} />
    </FormPanel>
  );
}

