"use client";
import type { RolloutDetail, RolloutStatusName, RolloutView, SpecChangeView } from "@/lib/rollouts/views";
import { Badge } from "@/components/ui/badge";
import { Note } from "@/components/ui/feedback";
import { digestChanges, shortDigest, specValue, STATUS_LABEL, STATUS_TONE } from "./format";

// Pieces every view of a rollout shares: its status, its digest change, the
// spec changes, the policy verdict, its steps and a failed container's logs.

export function RolloutStatusBadge({ status }: { status: RolloutStatusName }) {
  return (
    <span data-testid="rollout-status" data-status={status}>
      <Badge tone={STATUS_TONE[status]}>{STATUS_LABEL[status]}</Badge>
    </span>
  );
}

/** "abc123… → def456…" per service (or for the deployment), the full digests in the title. */
export function DigestChange({ rollout }: { rollout: Pick<RolloutView, "digestBefore" | "digestAfter" | "digests"> }) {
  const changes = digestChanges(rollout);
  if (changes.length === 0) return <span className="text-xs text-slate-500">—</span>;
  return (
    <ul className="space-y-0.5 font-mono text-xs" data-testid="digest-change">
      {changes.map((c) => (
        <li key={c.service ?? ""}>
          {c.service ? <span className="font-sans text-slate-500">{c.service}: </span> : null}
          <span title={c.before ?? undefined}>{shortDigest(c.before)}</span>
          <span aria-hidden> → </span>
          <span className="sr-only"> to </span>
          <span title={c.after ?? undefined}>{shortDigest(c.after)}</span>
        </li>
      ))}
    </ul>
  );
}

export function SpecChanges({ changes }: { changes: SpecChangeView[] }) {
  if (changes.length === 0) return <Note>No spec changes: the same settings with the new image.</Note>;
  return (
    <table className="w-full text-left text-xs" data-testid="spec-changes">
      <caption className="sr-only">Spec changes</caption>
      <thead className="uppercase text-slate-500">
        <tr>
          <th className="py-1 pr-2">Setting</th>
          <th className="py-1 pr-2">Before</th>
          <th className="py-1">After</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100 font-mono dark:divide-slate-800">
        {changes.map((c) => (
          <tr key={c.path}>
            <td className="py-1 pr-2 font-sans font-medium">{c.path}</td>
            <td className="py-1 pr-2 text-rose-700 [overflow-wrap:anywhere] dark:text-rose-400">{specValue(c.before)}</td>
            <td className="py-1 text-emerald-700 [overflow-wrap:anywhere] dark:text-emerald-400">{specValue(c.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A policy violation or override as a line: its rule and message when it has them. */
function violationText(v: unknown): string {
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const parts = [o.rule, o.field, o.message].filter((x) => typeof x === "string" && x);
    if (parts.length) return parts.join(": ");
  }
  return specValue(v);
}

export function Verdict({ verdict }: { verdict: RolloutDetail["verdict"] }) {
  if (!verdict) return <Note>No policy verdict recorded.</Note>;
  return (
    <div className="space-y-1 text-sm" data-testid="policy-verdict">
      <Badge tone={verdict.allowed ? "green" : "red"}>{verdict.allowed ? "policy allows it" : "policy denies it"}</Badge>
      {verdict.violations.length ? (
        <ul className="list-disc pl-5 text-xs text-rose-700 dark:text-rose-400">
          {verdict.violations.map((v, i) => (
            <li key={i}>{violationText(v)}</li>
          ))}
        </ul>
      ) : null}
      {verdict.overridden.length ? (
        <div className="text-xs text-amber-700 dark:text-amber-400">
          Overridden:
          <ul className="list-disc pl-5">
            {verdict.overridden.map((v, i) => (
              <li key={i}>{violationText(v)}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

export function Steps({ steps }: { steps: RolloutDetail["steps"] }) {
  if (steps.length === 0) return <Note>No steps yet.</Note>;
  return (
    <ol className="space-y-0.5 text-xs" aria-label="Steps" data-testid="rollout-steps">
      {steps.map((s, i) => (
        <li key={i} className="flex gap-2">
          <span className="shrink-0 tabular-nums text-slate-500">{new Date(s.at).toLocaleTimeString()}</span>
          <span className="shrink-0 font-medium">{s.phase}</span>
          <span className="[overflow-wrap:anywhere]">{s.message}</span>
        </li>
      ))}
    </ol>
  );
}

export function LogTail({ text }: { text: string | null }) {
  if (!text) return null;
  return (
    <div>
      <div className="text-xs font-medium text-slate-600 dark:text-slate-400">The new container&apos;s last log lines</div>
      <pre className="mt-1 max-h-60 overflow-auto rounded bg-slate-950 p-2 text-xs text-slate-100" data-testid="rollout-log-tail" aria-label="Last log lines">
        {text}
      </pre>
    </div>
  );
}
