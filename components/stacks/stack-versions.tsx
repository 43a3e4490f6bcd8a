"use client";
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { errorMessage } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { ErrorText, Loading, Note, Reason, SuccessText } from "@/components/ui/feedback";
import { FormError, Select } from "@/components/ui/field";
import { formatDate } from "@/components/ui/format";
import { Modal } from "@/components/ui/modal";
import type { StackSource } from "@/lib/compose/model";
import { useStacksTRPC } from "./api";
import { diffLines, hasChanges, withContext, type DiffLine } from "./line-diff";
import { orderedFiles } from "./stack-files";
import { StackProgress } from "./stack-progress";
import type { StackDetail, StackVersionSummary } from "./types";
import { useStackProgress } from "./use-stack-progress";

// Every version of the stack (who applied it, when, how it went), a diff
// between any two (the files as written, or the configuration Berth made of
// them), and roll back to any earlier one.

const RESULT_TONE = { applied: "green", failed: "red", pending: "sky" } as const;

export function StackVersions({ stack, mayRollBack }: { stack: StackDetail; mayRollBack: boolean }) {
  const api = useStacksTRPC();
  const versions = useQuery(api.stacks.versions.queryOptions({ stackId: stack.id }));
  const [rollingBack, setRollingBack] = useState<StackVersionSummary | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  if (versions.error) return <ErrorText>Could not list the versions: {errorMessage(versions.error)}</ErrorText>;
  if (!versions.data) return <Loading />;
  const items = [...versions.data.items].sort((a, b) => b.version - a.version);

  return (
    <div className="space-y-6">
      <Card title="Versions">
        <DataTable testId="stack-versions" columns={["Version", "Applied", "By", "Result", "Note", { label: "Actions", srOnly: true }]}>
          {items.map((v) => (
            <tr key={v.version} data-testid="version-row" aria-label={`Version ${v.version}`}>
              <td className={`${cell} font-medium tabular-nums`}>
                v{v.version}
                {v.version === stack.version ? (
                  <span className="ml-2">
                    <Badge tone="sky">current</Badge>
                  </span>
                ) : null}
              </td>
              <td className={`${cell} text-xs`}>{formatDate(v.createdAt)}</td>
              <td className={`${cell} text-xs`}>{v.createdBy ?? "—"}</td>
              <td className={cell}>
                <Badge tone={RESULT_TONE[v.result]}>{v.result}</Badge>
              </td>
              <td className={`${cell} text-xs text-slate-600 dark:text-slate-400`}>
                {v.rollbackOf !== null ? `Roll back to v${v.rollbackOf}. ` : ""}
                {v.error ?? ""}
              </td>
              <td className={`${cell} text-right`}>
                {v.version !== stack.version ? (
                  mayRollBack ? (
                    <Button variant="secondary" size="xs" aria-label={`Roll back to version ${v.version}`} onClick={() => setRollingBack(v)}>
                      Roll back to this version
                    </Button>
                  ) : (
                    <Reason>Rolling back needs stacks.deploy on this host.</Reason>
                  )
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
        {notice ? <SuccessText className="mt-3">{notice}</SuccessText> : null}
      </Card>
      {items.length > 1 ? <VersionDiff stackId={stack.id} versions={items.map((v) => v.version)} /> : <Note>Apply a second version to compare versions here.</Note>}
      {rollingBack ? (
        <RollbackDialog
          stackId={stack.id}
          version={rollingBack.version}
          onClose={() => setRollingBack(null)}
          onDone={(message) => {
            setRollingBack(null);
            setNotice(message);
          }}
        />
      ) : null}
    </div>
  );
}

function RollbackDialog({ stackId, version, onClose, onDone }: { stackId: string; version: number; onClose: () => void; onDone: (message: string) => void }) {
  const api = useStacksTRPC();
  const qc = useQueryClient();
  const mutation = useMutation(api.stacks.rollback.mutationOptions());
  const { progress, run } = useStackProgress();
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const pending = mutation.isPending;

  const start = async () => {
    setOutcome(null);
    try {
      const r = await run((progressToken) => mutation.mutateAsync({ stackId, version, progressToken }));
      await qc.invalidateQueries({ queryKey: api.stacks.pathKey() });
      if (r.result === "applied") onDone(`Rolled back to version ${version}: now version ${r.version}.`);
      else if (r.result === "awaitingApproval") onDone(`The roll back to version ${version} waits for an approver.`);
      else setOutcome({ ok: false, message: `The roll back (version ${r.version}) failed: ${r.error ?? "see the versions list."}` });
    } catch {
      // Shown from mutation.error.
    }
  };

  return (
    <Modal title={`Roll back to version ${version}?`} busy={pending} onClose={onClose}>
      <div className="space-y-3 text-sm">
        <p>
          Goes back to version {version} as a new version, with the images it ran (by digest). Each service that differs is replaced once its new container is
          healthy; if one fails, all go back. Named volumes are kept.
        </p>
        <FormError message={mutation.error ? errorMessage(mutation.error) : outcome && !outcome.ok ? outcome.message : null} />
        {pending || progress.services.length ? <StackProgress progress={progress} title="Roll back progress" /> : null}
      </div>
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onClose} disabled={pending}>
          {outcome ? "Close" : "Cancel"}
        </Button>
        <Button onClick={() => void start()} disabled={pending}>
          {pending ? "Rolling back…" : "Roll back"}
        </Button>
      </div>
    </Modal>
  );
}

type DiffMode = "files" | "rendered";

interface FileDiff {
  path: string;
  /** "added" / "removed" when only one version has the file. */
  change: "changed" | "same" | "added" | "removed";
  lines: DiffLine[];
}

export function diffSources(before: StackSource, after: StackSource): FileDiff[] {
  const a = new Map(before.files.map((f) => [f.path, f.content]));
  const b = new Map(after.files.map((f) => [f.path, f.content]));
  const paths = [...new Set([...orderedFiles(before), ...orderedFiles(after)].map((f) => f.path))];
  return paths.map((path) => {
    const lines = diffLines(a.get(path) ?? "", b.get(path) ?? "");
    const change = !a.has(path) ? "added" : !b.has(path) ? "removed" : hasChanges(lines) ? "changed" : "same";
    return { path, change, lines };
  });
}

function VersionDiff({ stackId, versions }: { stackId: string; versions: number[] }) {
  const api = useStacksTRPC();
  const [from, setFrom] = useState(versions[1]!);
  const [to, setTo] = useState(versions[0]!);
  const [mode, setMode] = useState<DiffMode>("files");
  // A new version arrived: compare it with the one before.
  const newest = versions[0]!;
  useEffect(() => {
    setTo(newest);
    setFrom(versions[1]!);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [newest]);
  const left = useQuery({ ...api.stacks.version.queryOptions(from ? { stackId, version: from } : skipToken), staleTime: Infinity });
  const right = useQuery({ ...api.stacks.version.queryOptions(to ? { stackId, version: to } : skipToken), staleTime: Infinity });

  const diffs = useMemo<FileDiff[] | null>(() => {
    if (!left.data || !right.data) return null;
    if (mode === "rendered") {
      const lines = diffLines(left.data.rendered, right.data.rendered);
      return [{ path: "configuration", change: hasChanges(lines) ? "changed" : "same", lines }];
    }
    return diffSources(left.data.source, right.data.source);
  }, [left.data, right.data, mode]);

  const pick = (value: number, onChange: (v: number) => void, label: string) => (
    <label className="flex items-center gap-2 text-sm">
      <span className="text-slate-600 dark:text-slate-400">{label}</span>
      <Select aria-label={`${label} version`} className="w-auto py-1" value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v} value={v}>
            v{v}
          </option>
        ))}
      </Select>
    </label>
  );

  return (
    <Card
      title={`Changes from v${from} to v${to}`}
      actions={
        <div className="flex flex-wrap items-center gap-3">
          {pick(from, setFrom, "From")}
          {pick(to, setTo, "To")}
          <div role="group" aria-label="What to compare" className="inline-flex overflow-hidden rounded-md border border-slate-300 dark:border-slate-700">
            {(["files", "rendered"] as const).map((m) => (
              <button
                key={m}
                type="button"
                aria-pressed={mode === m}
                onClick={() => setMode(m)}
                className={`px-2.5 py-1 text-xs font-medium ${mode === m ? "bg-sky-600 text-white" : "bg-white text-slate-700 dark:bg-slate-900 dark:text-slate-200"}`}
              >
                {m === "files" ? "Files" : "Configuration"}
              </button>
            ))}
          </div>
        </div>
      }
    >
      {left.error || right.error ? (
        <ErrorText>Could not read the versions: {errorMessage(left.error ?? right.error)}</ErrorText>
      ) : !diffs ? (
        <Loading />
      ) : from === to ? (
        <Note>Pick two different versions.</Note>
      ) : !diffs.some((d) => d.change !== "same") ? (
        <Note>No differences.</Note>
      ) : (
        <div className="space-y-4" data-testid="version-diff">
          {diffs
            .filter((d) => d.change !== "same")
            .map((d) => (
              <DiffView key={d.path} diff={d} />
            ))}
        </div>
      )}
    </Card>
  );
}

function DiffView({ diff }: { diff: FileDiff }) {
  const rows = withContext(diff.lines, 3);
  const added = diff.lines.filter((l) => l.kind === "added").length;
  const removed = diff.lines.filter((l) => l.kind === "removed").length;
  return (
    <section aria-label={`Changes in ${diff.path}`}>
      <h3 className="mb-1 flex items-center gap-2 font-mono text-xs font-semibold">
        {diff.path}
        {diff.change === "added" ? <Badge tone="green">new file</Badge> : diff.change === "removed" ? <Badge tone="red">removed</Badge> : null}
        <span className="font-normal text-emerald-700 dark:text-emerald-400">+{added}</span>
        <span className="font-normal text-rose-700 dark:text-rose-400">−{removed}</span>
      </h3>
      <table className="w-full border-collapse overflow-hidden rounded-md border border-slate-200 font-mono text-xs dark:border-slate-800">
        <tbody>
          {rows.map((r, i) =>
            r.kind === "skip" ? (
              <tr key={i} className="bg-slate-50 text-slate-500 dark:bg-slate-900">
                <td colSpan={3} className="px-2 py-0.5">
                  ⋯ {r.count} unchanged line{r.count === 1 ? "" : "s"}
                </td>
              </tr>
            ) : (
              <tr
                key={i}
                data-change={r.kind}
                className={r.kind === "added" ? "bg-emerald-50 dark:bg-emerald-950/40" : r.kind === "removed" ? "bg-rose-50 dark:bg-rose-950/40" : ""}
              >
                <td className="w-10 select-none px-2 text-right text-slate-400">{r.kind === "added" ? "" : r.oldLine}</td>
                <td className="w-10 select-none px-2 text-right text-slate-400">{r.kind === "removed" ? "" : r.newLine}</td>
                <td className="whitespace-pre-wrap break-all px-2">
                  <span aria-hidden className="select-none">{r.kind === "added" ? "+ " : r.kind === "removed" ? "- " : "  "}</span>
                  <span className="sr-only">{r.kind === "added" ? "added: " : r.kind === "removed" ? "removed: " : ""}</span>
                  {r.text}
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </section>
  );
}
