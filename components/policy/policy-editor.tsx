"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type ReactNode } from "react";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ErrorText, Loading, Reason, SuccessText } from "@/components/ui/feedback";
import { Field, FieldError, FormError, Input, Select } from "@/components/ui/field";
import { DEFAULT_POLICY, deployPolicySchema, RULES, type DeployPolicy, type DeployPolicyInput, type RuleId } from "@/lib/policy/rules";

// The deploy policy of one scope (hosts in no group, or a host group), rule by
// rule. The same schema the server enforces validates the form as you type.

/** Where the viewer may change policies, as the page computed it on the server. */
export interface PolicyRights {
  /** hosts.manage everywhere: the default policy and every group's. */
  all: boolean;
  /** Groups where a group-scoped binding grants hosts.manage. */
  groupIds: string[];
}

const DEFAULT_SCOPE = "default";
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
type MemoryUnit = "MiB" | "GiB";

interface Draft {
  allowPrivileged: boolean;
  allowedCapabilities: string[];
  allowHostNamespaces: boolean;
  bindMountAllowlist: string[];
  allowDevices: boolean;
  registryAllowlist: string[];
  requireMemoryLimit: boolean;
  maxMemory: string;
  maxMemoryUnit: MemoryUnit;
  requireCpuLimit: boolean;
  maxCpus: string;
}

function toDraft(p: DeployPolicy): Draft {
  const mem = p.maxMemoryBytes;
  const unit: MemoryUnit = mem !== undefined && mem % GIB === 0 ? "GiB" : "MiB";
  return {
    allowPrivileged: p.allowPrivileged,
    allowedCapabilities: [...p.allowedCapabilities],
    allowHostNamespaces: p.allowHostNamespaces,
    bindMountAllowlist: [...p.bindMountAllowlist],
    allowDevices: p.allowDevices,
    registryAllowlist: [...p.registryAllowlist],
    requireMemoryLimit: p.requireMemoryLimit,
    maxMemory: mem === undefined ? "" : String(Number((mem / (unit === "GiB" ? GIB : MIB)).toFixed(2))),
    maxMemoryUnit: unit,
    requireCpuLimit: p.requireCpuLimit,
    maxCpus: p.maxCpus === undefined ? "" : String(p.maxCpus),
  };
}

/** The draft as policy.set takes it; the numbers that aren't numbers are reported, not guessed. */
function fromDraft(d: Draft): { input: DeployPolicyInput; problems: Partial<Record<RuleId, string>> } {
  const problems: Partial<Record<RuleId, string>> = {};
  let maxMemoryBytes: number | undefined;
  if (d.maxMemory.trim()) {
    const n = Number(d.maxMemory);
    if (!Number.isFinite(n) || n <= 0) problems.maxMemoryBytes = "a positive number, or empty for no maximum";
    else maxMemoryBytes = Math.round(n * (d.maxMemoryUnit === "GiB" ? GIB : MIB));
  }
  let maxCpus: number | undefined;
  if (d.maxCpus.trim()) {
    const n = Number(d.maxCpus);
    if (!Number.isFinite(n) || n <= 0 || n > 1024) problems.maxCpus = "a number of CPUs above 0 (e.g. 0.5 or 2), or empty for no maximum";
    else maxCpus = n;
  }
  const { maxMemory: _m, maxMemoryUnit: _u, maxCpus: _c, ...rest } = d;
  return { input: { ...rest, ...(maxMemoryBytes !== undefined ? { maxMemoryBytes } : {}), ...(maxCpus !== undefined ? { maxCpus } : {}) }, problems };
}

function same(a: DeployPolicyInput, b: DeployPolicyInput): boolean {
  const norm = (p: DeployPolicyInput) => JSON.stringify(deployPolicySchema.safeParse(p).data ?? p, Object.keys(RULES).sort());
  return norm(a) === norm(b);
}

function differsFromDefault(rule: RuleId, p: DeployPolicyInput): boolean {
  const v = p[rule];
  const d = DEFAULT_POLICY[rule];
  if (Array.isArray(d)) return Array.isArray(v) && v.length > 0;
  return v !== undefined && v !== d;
}

/** What each rule guards against, and why its default is what it is. */
const EXPLAIN: Record<RuleId, string> = {
  allowPrivileged: "--privileged gives a container every capability and every host device: it is effectively root on the host. Safe default: off.",
  allowedCapabilities:
    "Linux capabilities a container may add (--cap-add), e.g. NET_ADMIN. ALL allows any. Safe default: none beyond the runtime's small default set.",
  allowHostNamespaces: "--network host, --pid host, --ipc host: the container shares the host's network stack, processes or IPC. Safe default: off.",
  bindMountAllowlist:
    "Host paths that bind mounts may come from (and everything below them). Empty allows no bind mounts; / allows any. Safe default: none (named volumes still work).",
  allowDevices: "--device passes host devices (disks, GPUs, serial ports) into the container. Safe default: off.",
  registryAllowlist:
    "Registries images may come from, e.g. docker.io or registry.example.com:5000. Empty allows any: where an image comes from doesn't by itself give it power over the host.",
  requireMemoryLimit: "Every container must set a memory limit (--memory). Safe default: not required.",
  maxMemoryBytes: "The largest memory limit a container may ask for. A container without a limit exceeds it. Empty: no maximum.",
  requireCpuLimit: "Every container must set a CPU limit (--cpus). Safe default: not required.",
  maxCpus: "The largest CPU limit a container may ask for, in CPUs (0.5 is half a CPU). A container without a limit exceeds it. Empty: no maximum.",
};

export function PolicyEditor({ rights, initialScope }: { rights: PolicyRights; initialScope: string | null }) {
  const trpc = useTRPC();
  const groups = useQuery(trpc.hosts.groups.queryOptions());
  const [scope, setScope] = useState(initialScope ?? DEFAULT_SCOPE);
  const scopeId = useId();
  const group = groups.data?.find((g) => g.id === scope) ?? null;
  // An unknown ?group= falls back to the default policy rather than a blank page.
  const effective = scope !== DEFAULT_SCOPE && groups.data && !group ? DEFAULT_SCOPE : scope;
  const hostGroupId = effective === DEFAULT_SCOPE ? null : effective;
  const policy = useQuery(trpc.policy.get.queryOptions({ hostGroupId }));
  const reason = hostGroupId
    ? rights.all || rights.groupIds.includes(hostGroupId)
      ? null
      : "Changing this group's policy needs the hosts.manage permission on the group."
    : rights.all
      ? null
      : "Changing the default policy needs the hosts.manage permission everywhere.";

  const choose = (value: string) => {
    setScope(value);
    const url = new URL(window.location.href);
    if (value === DEFAULT_SCOPE) url.searchParams.delete("group");
    else url.searchParams.set("group", value);
    window.history.replaceState(window.history.state, "", url);
  };

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <label htmlFor={scopeId} className="text-sm font-medium text-slate-700 dark:text-slate-300">
          Policy for
        </label>
        <div className="w-96 max-w-full">
          <Select id={scopeId} value={effective} onChange={(e) => choose(e.target.value)} data-testid="policy-scope">
            <option value={DEFAULT_SCOPE}>Hosts in no group (default)</option>
            {(groups.data ?? []).map((g) => (
              <option key={g.id} value={g.id}>
                Host group {g.name} ({g._count.hosts} host{g._count.hosts === 1 ? "" : "s"})
              </option>
            ))}
          </Select>
        </div>
        {groups.error ? <span className="text-xs text-rose-700 dark:text-rose-400">Host groups: {errorMessage(groups.error)}</span> : null}
      </div>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        {hostGroupId
          ? `Applies to every deploy to a host in ${group?.name ?? "this group"}. Hosts in a group follow only their group's policy.`
          : "Applies to every deploy to a host that is in no host group."}{" "}
        Every deploy path (the form, the API, the Docker proxy) is checked against it; an admin who overrides a rule is audited.
      </p>
      {policy.error ? (
        <ErrorText>{errorMessage(policy.error)}</ErrorText>
      ) : !policy.data ? (
        <Loading />
      ) : (
        <PolicyForm key={effective} hostGroupId={hostGroupId} saved={policy.data} reason={reason} />
      )}
    </div>
  );
}

function PolicyForm({ hostGroupId, saved, reason }: { hostGroupId: string | null; saved: DeployPolicy; reason: string | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const formId = useId();
  const [draft, setDraft] = useState<Draft>(() => toDraft(saved));
  const [justSaved, setJustSaved] = useState(false);
  const set = useMutation(
    trpc.policy.set.mutationOptions({
      onSuccess: async (rules) => {
        qc.setQueryData(trpc.policy.get.queryKey({ hostGroupId }), rules);
        setDraft(toDraft(rules));
        setJustSaved(true);
      },
    }),
  );
  const { input, problems } = fromDraft(draft);
  const parsed = deployPolicySchema.safeParse(input);
  const schemaErrors: Partial<Record<string, string>> = {};
  if (!parsed.success) for (const issue of parsed.error.issues) schemaErrors[String(issue.path[0])] ??= issue.message;
  const server = fieldErrors(set.error);
  const errorFor = (rule: RuleId) => problems[rule] ?? schemaErrors[rule] ?? server[`rules.${rule}`] ?? Object.entries(server).find(([k]) => k.startsWith(`rules.${rule}.`))?.[1] ?? null;
  const dirty = !same(input, saved);
  const invalid = Object.keys(problems).length > 0 || !parsed.success;
  const update = (patch: Partial<Draft>) => {
    setJustSaved(false);
    setDraft((d) => ({ ...d, ...patch }));
  };
  const disabled = Boolean(reason);

  return (
    <form
      aria-labelledby={formId}
      className="space-y-6"
      onSubmit={(e) => {
        e.preventDefault();
        if (!invalid && !reason) set.mutate({ hostGroupId, rules: input });
      }}
    >
      <h2 id={formId} className="sr-only">
        Deploy policy rules
      </h2>
      <fieldset disabled={disabled} className="space-y-6">
        <Card title="What reaches the host">
          <div className="space-y-5">
            <Toggle rule="allowPrivileged" draft={draft} input={input} onChange={update} danger />
            <Toggle rule="allowHostNamespaces" draft={draft} input={input} onChange={update} danger />
            <Toggle rule="allowDevices" draft={draft} input={input} onChange={update} danger />
            <ListRule
              rule="allowedCapabilities"
              values={draft.allowedCapabilities}
              input={input}
              placeholder="NET_ADMIN"
              error={errorFor("allowedCapabilities")}
              empty="None: containers keep the runtime's default capabilities only."
              onChange={(v) => update({ allowedCapabilities: v })}
            />
            <ListRule
              rule="bindMountAllowlist"
              values={draft.bindMountAllowlist}
              input={input}
              placeholder="/srv/data"
              error={errorFor("bindMountAllowlist")}
              empty="None: no bind mounts at all (named volumes still work)."
              onChange={(v) => update({ bindMountAllowlist: v })}
            />
          </div>
        </Card>
        <Card title="Where images come from">
          <ListRule
            rule="registryAllowlist"
            values={draft.registryAllowlist}
            input={input}
            placeholder="registry.example.com:5000"
            error={errorFor("registryAllowlist")}
            empty="Any registry."
            onChange={(v) => update({ registryAllowlist: v })}
          />
        </Card>
        <Card title="Resource limits">
          <div className="grid gap-6 md:grid-cols-2">
            <div className="space-y-3">
              <Toggle rule="requireMemoryLimit" draft={draft} input={input} onChange={update} />
              <RuleBlock rule="maxMemoryBytes" input={input}>
                <Field label={RULES.maxMemoryBytes} error={errorFor("maxMemoryBytes")}>
                  <span className="flex gap-2">
                    <Input inputMode="decimal" value={draft.maxMemory} onChange={(e) => update({ maxMemory: e.target.value })} placeholder="no maximum" className="max-w-40" />
                    <span className="w-24 shrink-0">
                      <Select aria-label="Memory unit" value={draft.maxMemoryUnit} onChange={(e) => update({ maxMemoryUnit: e.target.value as MemoryUnit })}>
                        <option value="MiB">MiB</option>
                        <option value="GiB">GiB</option>
                      </Select>
                    </span>
                  </span>
                </Field>
              </RuleBlock>
            </div>
            <div className="space-y-3">
              <Toggle rule="requireCpuLimit" draft={draft} input={input} onChange={update} />
              <RuleBlock rule="maxCpus" input={input}>
                <Field label={RULES.maxCpus} error={errorFor("maxCpus")}>
                  <span className="flex items-center gap-2">
                    <Input inputMode="decimal" value={draft.maxCpus} onChange={(e) => update({ maxCpus: e.target.value })} placeholder="no maximum" className="max-w-40" />
                    <span className="text-sm text-slate-500">CPUs</span>
                  </span>
                </Field>
              </RuleBlock>
            </div>
          </div>
        </Card>
      </fieldset>

      <div className="flex flex-wrap items-center gap-3 border-t border-slate-200 pt-4 dark:border-slate-800">
        <Button type="submit" disabled={disabled || set.isPending || invalid || !dirty} title={reason ?? undefined}>
          {set.isPending ? "Saving…" : "Save policy"}
        </Button>
        <Button variant="secondary" disabled={disabled || set.isPending || same(input, DEFAULT_POLICY)} onClick={() => update(toDraft(DEFAULT_POLICY))}>
          Reset to safe defaults
        </Button>
        <Button variant="ghost" disabled={disabled || set.isPending || !dirty} onClick={() => update(toDraft(saved))}>
          Discard changes
        </Button>
        <Reason>{reason}</Reason>
        {!reason && dirty && !invalid ? <span className="text-xs text-amber-700 dark:text-amber-400">Unsaved changes.</span> : null}
        {!reason && invalid ? <span className="text-xs text-rose-700 dark:text-rose-400">Fix the marked rules first.</span> : null}
        {justSaved && !dirty ? <SuccessText>Policy saved.</SuccessText> : null}
      </div>
      <FormError message={set.error && Object.keys(server).length === 0 ? errorMessage(set.error) : null} />
    </form>
  );
}

function RuleBlock({ rule, input, children }: { rule: RuleId; input: DeployPolicyInput; children: ReactNode }) {
  return (
    <div className="space-y-1" data-testid={`rule-${rule}`}>
      {children}
      <p className="text-xs text-slate-500 dark:text-slate-400">
        {EXPLAIN[rule]} {differsFromDefault(rule, input) ? <Badge tone="amber">changed from the safe default</Badge> : null}
      </p>
    </div>
  );
}

type BooleanRule = "allowPrivileged" | "allowHostNamespaces" | "allowDevices" | "requireMemoryLimit" | "requireCpuLimit";

function Toggle({ rule, draft, input, onChange, danger }: { rule: BooleanRule; draft: Draft; input: DeployPolicyInput; onChange: (patch: Partial<Draft>) => void; danger?: boolean }) {
  const id = useId();
  return (
    <RuleBlock rule={rule} input={input}>
      <div className="flex items-center gap-2">
        <input id={id} type="checkbox" checked={draft[rule]} onChange={(e) => onChange({ [rule]: e.target.checked })} />
        <label htmlFor={id} className="text-sm font-medium">
          {RULES[rule]}
        </label>
        {danger && draft[rule] ? <Badge tone="red">reaches the host</Badge> : null}
      </div>
    </RuleBlock>
  );
}

type ListRuleId = "allowedCapabilities" | "bindMountAllowlist" | "registryAllowlist";

/** One entry checked (and normalised) by the server's own schema for that rule. */
function checkEntry(rule: ListRuleId, value: string): { value: string } | { error: string } {
  const parsed = deployPolicySchema.shape[rule].safeParse([value]);
  if (parsed.success) return { value: parsed.data[0]! };
  return { error: parsed.error.issues[0]?.message ?? "not valid here" };
}

function ListRule({
  rule,
  values,
  input,
  placeholder,
  empty,
  error,
  onChange,
}: {
  rule: ListRuleId;
  values: string[];
  input: DeployPolicyInput;
  placeholder: string;
  empty: string;
  error: string | null;
  onChange: (values: string[]) => void;
}) {
  const inputId = useId();
  const [entry, setEntry] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const add = () => {
    if (!entry.trim()) return;
    const checked = checkEntry(rule, entry);
    if ("error" in checked) return setProblem(checked.error);
    setProblem(null);
    setEntry("");
    if (!values.includes(checked.value)) onChange([...values, checked.value]);
  };
  return (
    <RuleBlock rule={rule} input={input}>
      <div className="space-y-2">
        <label htmlFor={inputId} className="block text-sm font-medium">
          {RULES[rule]}
        </label>
        {values.length ? (
          <ul className="flex flex-wrap gap-2" aria-label={RULES[rule]}>
            {values.map((v) => (
              <li key={v} className="inline-flex items-center gap-1 rounded-md bg-slate-100 py-0.5 pl-2 pr-1 font-mono text-xs dark:bg-slate-800">
                {v}
                <button
                  type="button"
                  className="rounded px-1 text-slate-500 hover:bg-slate-200 hover:text-slate-900 dark:hover:bg-slate-700 dark:hover:text-slate-100"
                  aria-label={`Remove ${v}`}
                  onClick={() => onChange(values.filter((x) => x !== v))}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-xs italic text-slate-500">{empty}</p>
        )}
        <div className="flex max-w-md gap-2">
          <Input
            id={inputId}
            className="font-mono"
            value={entry}
            placeholder={placeholder}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => {
              setEntry(e.target.value);
              setProblem(null);
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                add();
              }
            }}
          />
          <Button variant="secondary" onClick={add} disabled={!entry.trim()} aria-label={`Add to ${RULES[rule]}`}>
            Add
          </Button>
        </div>
        <FieldError message={problem ?? error} />
      </div>
    </RuleBlock>
  );
}
