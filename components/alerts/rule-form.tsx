"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Field, FormError, Input, Select } from "@/components/ui/field";
import { CheckboxField, FormActions, FormPanel } from "@/components/ui/form";
import { ALERT_KIND_NAMES, ALERT_KINDS, SEVERITIES, type AlertKind, type Severity } from "@/lib/alerts/kinds";
import { ScopePicker } from "./scope-picker";
import { labelsToText, parseLabels, type AlertRuleView } from "./shared";

// A rule's editor: the kind (fixed once saved), its own settings from
// ALERT_KINDS, severity, where it applies, how long a condition must hold
// before it fires, how often it repeats while firing, and its channels.

/** A kind's settings with their defaults, as the kinds table gives them. */
export function kindDefaults(kind: AlertKind): Record<string, number> {
  return ALERT_KINDS[kind].params.parse({}) as Record<string, number>;
}

const PARAM_LABELS: Record<string, { label: string; hint?: string }> = {
  restarts: { label: "Restarts", hint: "How many restarts make a loop." },
  minutes: { label: "Within (minutes)", hint: "The window the restarts are counted in." },
  percent: { label: "Above (%)", hint: "Of the limit (memory, CPU) or of the filesystem (disk)." },
};

interface Draft {
  name: string;
  kind: AlertKind;
  severity: Severity;
  scopeKey: string;
  labels: string;
  params: Record<string, string>;
  forSeconds: string;
  repeatMinutes: string;
  channelIds: string[];
  enabled: boolean;
}

function draftOf(rule: AlertRuleView | null): Draft {
  if (!rule) {
    return {
      name: "",
      kind: "hostUnreachable",
      severity: "warning",
      scopeKey: "all",
      labels: "",
      params: {},
      forSeconds: "60",
      repeatMinutes: "240",
      channelIds: [],
      enabled: true,
    };
  }
  return {
    name: rule.name,
    kind: rule.kind,
    severity: rule.severity,
    scopeKey: rule.scopeKey,
    labels: labelsToText(rule.labelSelector),
    params: Object.fromEntries(Object.entries({ ...kindDefaults(rule.kind), ...rule.params }).map(([k, v]) => [k, String(v)])),
    forSeconds: String(rule.forSeconds),
    repeatMinutes: String(rule.repeatMinutes),
    channelIds: rule.channelIds,
    enabled: rule.enabled,
  };
}

export function RuleForm({ rule, onDone, onCancel }: { rule: AlertRuleView | null; onDone: (message: string) => void; onCancel: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(rule));
  const [problem, setProblem] = useState<string | null>(null);
  const channels = useQuery({ ...trpc.channels.list.queryOptions(), retry: false });
  const refresh = () => qc.invalidateQueries(trpc.alerts.rules.pathFilter());
  const create = useMutation(trpc.alerts.createRule.mutationOptions({ onSuccess: async (r) => (await refresh(), onDone(`Saved rule ${r.name}.`)) }));
  const update = useMutation(trpc.alerts.updateRule.mutationOptions({ onSuccess: async (r) => (await refresh(), onDone(`Updated rule ${r.name}.`)) }));
  const mutation = rule ? update : create;
  const errors = fieldErrors(mutation.error);
  const kind = ALERT_KINDS[draft.kind];
  const defaults = useMemo(() => kindDefaults(draft.kind), [draft.kind]);
  const channelsId = useId();

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const labels = parseLabels(draft.labels);
    if (labels.error) return setProblem(labels.error);
    const rawParams = Object.fromEntries(Object.keys(defaults).map((k) => [k, Number(draft.params[k] ?? defaults[k])]));
    const params = kind.params.safeParse(rawParams);
    if (!params.success) return setProblem(params.error.issues.map((i) => `${PARAM_LABELS[String(i.path[0])]?.label ?? String(i.path[0])}: ${i.message}`).join(" "));
    const input = {
      name: draft.name.trim(),
      severity: draft.severity,
      scopeKey: kind.subject === "global" ? "all" : draft.scopeKey,
      labelSelector: kind.subject === "container" ? labels.labels : {},
      params: params.data as Record<string, unknown>,
      forSeconds: Number(draft.forSeconds),
      repeatMinutes: Number(draft.repeatMinutes),
      channelIds: draft.channelIds,
      enabled: draft.enabled,
    };
    if (rule) update.mutate({ id: rule.id, ...input });
    else create.mutate({ kind: draft.kind, ...input });
  };

  return (
    <FormPanel title={rule ? `Edit rule ${rule.name}` : "New rule"} onSubmit={submit}>
      <div className="grid gap-3 md:grid-cols-2">
        <Field label="Name" error={errors.name}>
          <Input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required maxLength={100} autoComplete="off" />
        </Field>
        <Field label="Kind" hint={rule ? "A saved rule keeps its kind; create another rule for another kind." : undefined} error={errors.kind}>
          <Select
            value={draft.kind}
            disabled={Boolean(rule)}
            onChange={(e) => {
              const k = e.target.value as AlertKind;
              setDraft({ ...draft, kind: k, params: Object.fromEntries(Object.entries(kindDefaults(k)).map(([p, v]) => [p, String(v)])) });
            }}
          >
            {ALERT_KIND_NAMES.map((k) => (
              <option key={k} value={k}>
                {ALERT_KINDS[k].label}
              </option>
            ))}
          </Select>
        </Field>
        {Object.keys(defaults).map((p) => (
          <Field key={p} label={PARAM_LABELS[p]?.label ?? p} hint={PARAM_LABELS[p]?.hint} error={errors[`params.${p}`]}>
            <Input
              type="number"
              value={draft.params[p] ?? String(defaults[p])}
              onChange={(e) => setDraft({ ...draft, params: { ...draft.params, [p]: e.target.value } })}
              required
            />
          </Field>
        ))}
        <Field label="Severity" error={errors.severity}>
          <Select value={draft.severity} onChange={(e) => setDraft({ ...draft, severity: e.target.value as Severity })}>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </Field>
        {kind.subject !== "global" ? (
          <Field label="Scope" hint="All hosts, a host group or one host." error={errors.scopeKey}>
            <ScopePicker value={draft.scopeKey} onChange={(scopeKey) => setDraft({ ...draft, scopeKey })} />
          </Field>
        ) : (
          <Field label="Scope" hint="This kind is about Berth itself, not a host.">
            <Input value="Berth" disabled readOnly />
          </Field>
        )}
        {kind.subject === "container" ? (
          <Field label="Container labels" hint="One per line: key=value, or key alone (the label exists). Empty: every container." error={errors.labelSelector}>
            <textarea
              className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-xs shadow-sm dark:border-slate-700 dark:bg-slate-900"
              rows={3}
              value={draft.labels}
              onChange={(e) => setDraft({ ...draft, labels: e.target.value })}
              spellCheck={false}
            />
          </Field>
        ) : null}
        <Field label="For (seconds)" hint="How long the condition must hold before the alert fires; 0 fires at once." error={errors.forSeconds}>
          <Input type="number" min={0} max={86_400} value={draft.forSeconds} onChange={(e) => setDraft({ ...draft, forSeconds: e.target.value })} required />
        </Field>
        <Field label="Repeat (minutes)" hint="Notify again this often while it fires; 0 never repeats." error={errors.repeatMinutes}>
          <Input type="number" min={0} max={10_080} value={draft.repeatMinutes} onChange={(e) => setDraft({ ...draft, repeatMinutes: e.target.value })} required />
        </Field>
      </div>
      <fieldset className="space-y-1" aria-labelledby={channelsId}>
        <legend id={channelsId} className="text-sm font-medium text-slate-700 dark:text-slate-300">
          Channels
        </legend>
        {channels.error ? (
          <p className="text-xs text-rose-700 dark:text-rose-400">Could not list the channels: {errorMessage(channels.error)}</p>
        ) : channels.data && channels.data.length === 0 ? (
          <p className="text-xs text-slate-500">No channel yet: add one under Channels. Without one, the alert only shows here.</p>
        ) : (
          <div className="flex flex-wrap gap-x-4 gap-y-1">
            {(channels.data ?? []).map((c) => (
              <label key={c.id} className="flex items-center gap-1.5 text-sm">
                <input
                  type="checkbox"
                  checked={draft.channelIds.includes(c.id)}
                  onChange={(e) =>
                    setDraft({ ...draft, channelIds: e.target.checked ? [...draft.channelIds, c.id] : draft.channelIds.filter((x) => x !== c.id) })
                  }
                />
                {c.name} <span className="text-xs text-slate-500">({c.kind})</span>
              </label>
            ))}
          </div>
        )}
      </fieldset>
      <CheckboxField label="Enabled" hint="A disabled rule fires nothing." checked={draft.enabled} onChange={(enabled) => setDraft({ ...draft, enabled })} />
      <FormError message={problem ?? (mutation.error && Object.keys(errors).length === 0 ? errorMessage(mutation.error) : null)} />
      <FormActions submitLabel={rule ? "Save changes" : "Save rule"} pendingLabel="Saving…" pending={mutation.isPending} onCancel={onCancel} />
    </FormPanel>
  );
}
