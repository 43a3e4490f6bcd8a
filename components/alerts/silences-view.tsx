"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { HostCoverage } from "@/components/hosts/coverage";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { cell, DataTable, QueryState } from "@/components/ui/data-table";
import { ErrorText, Note, SuccessText } from "@/components/ui/feedback";
import { Field, FormError, Input, Select } from "@/components/ui/field";
import { FormActions, FormPanel } from "@/components/ui/form";
import { formatDate } from "@/components/ui/format";
import { ScopePicker, useScopeLabel } from "./scope-picker";
import { LabelChips, parseLabels, type SilenceView } from "./shared";

// Silences: hold back the notifications of alerts matching a rule, a scope
// and/or container labels until an end time, with a comment saying why.
// Active ones can be ended early; ended ones stay listed.

const DURATIONS = [
  { value: "60", label: "1 hour" },
  { value: "240", label: "4 hours" },
  { value: "1440", label: "1 day" },
  { value: "10080", label: "1 week" },
  { value: "custom", label: "Until a time…" },
];

/** A Date as a datetime-local value, in local time. */
function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function SilencesView({ silence, canSilence, preset }: { silence: HostCoverage; canSilence: boolean; preset: { ruleId: string; scopeKey: string } }) {
  const trpc = useTRPC();
  const silences = useQuery({ ...trpc.alerts.silences.queryOptions({ includeEnded: true }), refetchInterval: 30_000 });
  const [creating, setCreating] = useState(Boolean(preset.ruleId || preset.scopeKey) && canSilence);
  const [notice, setNotice] = useState<string | null>(null);
  const active = (silences.data ?? []).filter((s) => s.active);
  const ended = (silences.data ?? []).filter((s) => !s.active);

  return (
    <div className="space-y-6">
      <Card
        title="Active silences"
        actions={
          canSilence && !creating ? (
            <Button
              variant="secondary"
              onClick={() => {
                setNotice(null);
                setCreating(true);
              }}
            >
              New silence
            </Button>
          ) : null
        }
      >
        <div className="space-y-4">
          {!canSilence ? <Note>Silencing needs the alerts.silence permission.</Note> : null}
          {notice ? <SuccessText>{notice}</SuccessText> : null}
          {creating ? (
            <SilenceForm
              preset={preset}
              everywhere={silence.all}
              onDone={(m) => {
                setCreating(false);
                setNotice(m);
              }}
              onCancel={() => setCreating(false)}
            />
          ) : null}
          <QueryState query={silences} errorPrefix="Could not list the silences: ">
            {() => (active.length === 0 ? <Note>No silence is active.</Note> : <SilencesTable items={active} testId="active-silences" canEnd={canSilence} />)}
          </QueryState>
        </div>
      </Card>
      {ended.length > 0 ? (
        <Card title="Ended silences">
          <SilencesTable items={ended} testId="ended-silences" canEnd={false} />
        </Card>
      ) : null}
    </div>
  );
}

function SilencesTable({ items, testId, canEnd }: { items: SilenceView[]; testId: string; canEnd: boolean }) {
  const scopeLabel = useScopeLabel();
  return (
    <DataTable testId={testId} columns={["Matches", "Comment", "By", "From", "Until", ...(canEnd ? [{ label: "Actions", srOnly: true }] : [])]}>
      {items.map((s) => (
        <tr key={s.id} data-testid="silence-row" aria-label={`Silence ${s.comment}`}>
          <td className={`${cell} text-xs`}>
            <div>{s.ruleName ? `rule ${s.ruleName}` : "every rule"}</div>
            <div className="text-slate-500">{scopeLabel(s.scopeKey)}</div>
            {Object.keys(s.labelSelector).length > 0 ? <LabelChips labels={s.labelSelector} /> : null}
          </td>
          <td className={`${cell} max-w-xs [overflow-wrap:anywhere]`}>{s.comment}</td>
          <td className={`${cell} text-xs`}>{s.createdByLabel ?? "—"}</td>
          <td className={`${cell} whitespace-nowrap text-xs`}>{formatDate(s.startsAt)}</td>
          <td className={`${cell} whitespace-nowrap text-xs`}>
            {s.endedAt && s.endedAt < s.endsAt ? (
              <>
                {formatDate(s.endedAt)} <Badge>ended early</Badge>
              </>
            ) : (
              formatDate(s.endsAt)
            )}
          </td>
          {canEnd ? (
            <td className={`${cell} text-right`}>
              <EndSilence silence={s} />
            </td>
          ) : null}
        </tr>
      ))}
    </DataTable>
  );
}

function EndSilence({ silence }: { silence: SilenceView }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const end = useMutation(
    trpc.alerts.endSilence.mutationOptions({
      onSuccess: () => Promise.all([qc.invalidateQueries(trpc.alerts.silences.pathFilter()), qc.invalidateQueries(trpc.alerts.list.pathFilter())]),
    }),
  );
  return (
    <div>
      <Button variant="ghostDanger" size="sm" aria-label={`End silence ${silence.comment} now`} disabled={end.isPending} onClick={() => end.mutate({ id: silence.id })}>
        {end.isPending ? "Ending…" : "End now"}
      </Button>
      {end.error ? <ErrorText small>{errorMessage(end.error)}</ErrorText> : null}
    </div>
  );
}

function SilenceForm({
  preset,
  everywhere,
  onDone,
  onCancel,
}: {
  preset: { ruleId: string; scopeKey: string };
  /** Whether the viewer may silence on every host (else a scope of theirs must be chosen). */
  everywhere: boolean;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const rules = useQuery({ ...trpc.alerts.rules.queryOptions(), retry: false });
  const [ruleId, setRuleId] = useState(preset.ruleId);
  const [scopeKey, setScopeKey] = useState(preset.scopeKey);
  const [labels, setLabels] = useState("");
  const [duration, setDuration] = useState("240");
  const [until, setUntil] = useState(() => localInput(new Date(Date.now() + 4 * 3600_000)));
  const [comment, setComment] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const create = useMutation(
    trpc.alerts.silence.mutationOptions({
      onSuccess: async (s) => {
        await Promise.all([qc.invalidateQueries(trpc.alerts.silences.pathFilter()), qc.invalidateQueries(trpc.alerts.list.pathFilter())]);
        onDone(`Silenced until ${formatDate(s.endsAt)}.`);
      },
    }),
  );
  const errors = fieldErrors(create.error);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const parsed = parseLabels(labels);
    if (parsed.error) return setProblem(parsed.error);
    if (!ruleId && !scopeKey && Object.keys(parsed.labels).length === 0) return setProblem("Choose a rule, a scope or labels: a silence of everything is not allowed.");
    const endsAt = duration === "custom" ? new Date(until) : new Date(Date.now() + Number(duration) * 60_000);
    if (Number.isNaN(endsAt.getTime())) return setProblem("Choose when the silence ends.");
    if (endsAt.getTime() <= Date.now()) return setProblem("The end time is in the past.");
    if (!comment.trim()) return setProblem("Say why in the comment.");
    create.mutate({ ruleId: ruleId || null, scopeKey: scopeKey || null, labelSelector: parsed.labels, comment: comment.trim(), endsAt });
  };

  return (
    <FormPanel title="New silence" onSubmit={submit}>
      <div className="grid gap-3 md:grid-cols-2">
        <Field label="Rule" error={errors.ruleId}>
          <Select value={ruleId} onChange={(e) => setRuleId(e.target.value)}>
            <option value="">Every rule</option>
            {(rules.data ?? []).map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
            {ruleId && rules.data && !rules.data.some((r) => r.id === ruleId) ? <option value={ruleId}>{ruleId}</option> : null}
          </Select>
        </Field>
        <Field label="Scope" hint={everywhere ? undefined : "Choose a host or group you may silence."} error={errors.scopeKey}>
          <ScopePicker value={scopeKey} onChange={setScopeKey} anyLabel="Any scope" />
        </Field>
        <Field label="Container labels" hint="One per line: key=value, or key alone. Empty: any container." error={errors.labelSelector}>
          <textarea
            className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-xs shadow-sm dark:border-slate-700 dark:bg-slate-900"
            rows={2}
            value={labels}
            onChange={(e) => setLabels(e.target.value)}
            spellCheck={false}
          />
        </Field>
        <div className="space-y-3">
          <Field label="Duration">
            <Select value={duration} onChange={(e) => setDuration(e.target.value)}>
              {DURATIONS.map((d) => (
                <option key={d.value} value={d.value}>
                  {d.label}
                </option>
              ))}
            </Select>
          </Field>
          {duration === "custom" ? (
            <Field label="Ends at" error={errors.endsAt}>
              <Input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} required />
            </Field>
          ) : null}
        </div>
        <div className="md:col-span-2">
          <Field label="Comment" hint="Required: why, and who is on it." error={errors.comment}>
            <Input value={comment} onChange={(e) => setComment(e.target.value)} required maxLength={2000} />
          </Field>
        </div>
      </div>
      <FormError message={problem ?? (create.error && Object.keys(errors).length === 0 ? errorMessage(create.error) : null)} />
      <FormActions submitLabel="Silence" pendingLabel="Saving…" pending={create.isPending} onCancel={onCancel} />
    </FormPanel>
  );
}
