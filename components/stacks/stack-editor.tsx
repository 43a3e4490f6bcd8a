"use client";
import { keepPreviousData, skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useMemo, useRef, useState, type ChangeEvent, type FormEvent, type ReactNode } from "react";
import { covers, needsPermission, type HostCoverage } from "@/components/hosts/coverage";
import { NoHostEmptyState } from "@/components/hosts/host-scope";
import { hostChoice } from "@/components/hosts/host-status";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ErrorText, Loading, Note } from "@/components/ui/feedback";
import { Field, FormError, Input } from "@/components/ui/field";
import { CheckboxField } from "@/components/ui/form";
import { HostPicker } from "@/components/ui/host-picker";
import { useDebounced } from "@/components/ui/use-debounced";
import type { StackFile, StackProblem } from "@/lib/compose/model";
import { useStacksTRPC } from "./api";
import {
  addUploads,
  DOTENV,
  emptyFiles,
  filesFromSource,
  isComposeName,
  nameProblem,
  pathProblem,
  problemsIn,
  problemWhere,
  toSource,
  type EditorFiles,
} from "./source-files";
import { StackProgress } from "./stack-progress";
import type { ApplyResult, PolicyViolation, StackDetail } from "./types";
import { useStackProgress } from "./use-stack-progress";
import { useStackValidation } from "./use-stack-validation";
import { YamlEditor, type EditorMark, type YamlEditorHandle } from "./yaml-editor";

// New stack and Edit: the files (compose files in merge order, .env, env
// files) in an editor that marks problems as you type, the host's deploy
// policy per service once the files are valid, then Apply with per-service
// progress. Edit applies the same stack as a new version.

const POLICY_DEBOUNCE_MS = 500;

type Status = "editing" | "applying" | "opening";

export function StackEditor({
  deploy,
  initialHostId,
  existing,
}: {
  /** Hosts where the viewer may apply stacks. */
  deploy: HostCoverage;
  initialHostId?: string | null;
  /** Edit: the stack as it is now (host and name are fixed). */
  existing?: StackDetail;
}) {
  const trpc = useTRPC();
  const api = useStacksTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), enabled: !existing });
  const deployable = useMemo(() => (hosts.data ?? []).filter((h) => covers(deploy, h)), [hosts.data, deploy]);

  const [hostId, setHostId] = useState(existing?.hostId ?? initialHostId ?? "");
  const [name, setName] = useState(existing?.name ?? "");
  const [nameTouched, setNameTouched] = useState(false);
  const [files, setFiles] = useState<EditorFiles>(() => (existing ? filesFromSource(existing.source) : emptyFiles()));
  const [active, setActive] = useState(files.composeFiles[0] ?? files.files[0]!.path);
  const [uploaded, setUploaded] = useState(false);
  const [override, setOverride] = useState(false);
  const [removeOrphans, setRemoveOrphans] = useState(false);
  const [status, setStatus] = useState<Status>("editing");
  const [refusal, setRefusal] = useState<{ message: string; violations: (PolicyViolation & { service?: string })[] } | null>(null);
  const [failed, setFailed] = useState<ApplyResult | null>(null);
  const editor = useRef<YamlEditorHandle | null>(null);
  const { progress, run } = useStackProgress();
  const apply = useMutation(api.stacks.up.mutationOptions());

  // Pick the only host once the list arrives.
  useEffect(() => {
    if (existing || hostId || deployable.length !== 1) return;
    setHostId(deployable[0]!.id);
  }, [existing, hostId, deployable]);

  const source = useMemo(() => toSource(files), [files]);
  const validation = useStackValidation(source, name);
  const problems: StackProblem[] = validation.result && !validation.result.ok ? validation.result.problems : [];
  const warnings: StackProblem[] = validation.result?.ok ? validation.result.warnings : [];
  const valid = Boolean(validation.result?.ok) && !validation.pending;
  const nameError = existing ? null : nameProblem(name);

  // The policy, once the files are valid and a host and name are chosen.
  const checkKey = useDebounced(valid && hostId && !nameError ? JSON.stringify({ hostId, name, source }) : null, POLICY_DEBOUNCE_MS);
  const check = useQuery({
    ...api.stacks.check.queryOptions(checkKey ? (JSON.parse(checkKey) as { hostId: string; name: string; source: typeof source }) : skipToken),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 30_000,
  });
  const checkCurrent = Boolean(checkKey) && checkKey === JSON.stringify({ hostId, name, source });
  const verdict = checkCurrent ? check.data : undefined;
  const denied = verdict?.services.filter((s) => !s.allowed) ?? [];
  const serverProblems = verdict?.problems ?? [];
  const blocked = denied.length > 0 && !(verdict?.mayOverride && override);

  const update = (next: EditorFiles) => {
    setFiles(next);
    setRefusal(null);
    setFailed(null);
  };
  const setContent = (path: string, content: string) =>
    setFiles((f) => ({ ...f, files: f.files.map((x) => (x.path === path ? { ...x, content } : x)) }));

  const firstCompose = files.composeFiles[0];
  const activeFile = files.files.find((f) => f.path === active) ?? files.files[0]!;
  const marks = useMemo<EditorMark[]>(
    () => [
      ...problemsIn(problems, activeFile.path, firstCompose).flatMap((p) => (p.line ? [{ line: p.line, column: p.column, message: p.message, severity: "error" as const }] : [])),
      ...problemsIn(warnings, activeFile.path, firstCompose).flatMap((p) => (p.line ? [{ line: p.line, column: p.column, message: p.message, severity: "warning" as const }] : [])),
    ],
    [problems, warnings, activeFile.path, firstCompose],
  );

  const goTo = (p: StackProblem) => {
    const file = p.file ?? firstCompose;
    if (file && file !== active) setActive(file);
    // After the tab's editor has the file.
    if (p.line) setTimeout(() => editor.current?.goToLine(p.line!, p.column), 0);
  };

  async function onUpload(e: ChangeEvent<HTMLInputElement>) {
    const list = Array.from(e.target.files ?? []);
    e.target.value = "";
    if (!list.length) return;
    const uploads: StackFile[] = await Promise.all(list.map(async (f) => ({ path: f.name, content: await f.text() })));
    const next = addUploads(files, uploads, { replaceCompose: !existing && !uploaded });
    setUploaded(true);
    update(next);
    setActive(uploads.find((u) => isComposeName(u.path))?.path ?? uploads[0]!.path);
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setNameTouched(true);
    setRefusal(null);
    setFailed(null);
    if (!valid || nameError || !hostId || status !== "editing") return;
    setStatus("applying");
    try {
      const result = await run((progressToken) =>
        apply.mutateAsync({ hostId, name, source, override: Boolean(verdict?.mayOverride && override), removeOrphans, progressToken }),
      );
      await qc.invalidateQueries({ queryKey: api.stacks.pathKey() });
      // Applied, or waiting for an approver: the stack's page shows which (its timeline).
      if (result.result === "applied" || result.result === "awaitingApproval") {
        setStatus("opening");
        router.push(`/stacks/${result.stackId}`);
        return;
      }
      setFailed(result);
      setStatus("editing");
    } catch (err) {
      setStatus("editing");
      const data = (err as { data?: { policyViolations?: (PolicyViolation & { service?: string })[] } } | null)?.data;
      setRefusal({ message: errorMessage(err), violations: data?.policyViolations ?? [] });
    }
  }

  if (!existing) {
    if (hosts.error) return <FormError message={errorMessage(hosts.error)} />;
    if (!hosts.data) return <Loading />;
    if (deployable.length === 0) {
      return (
        <NoHostEmptyState title="No host to deploy a stack to">
          {hosts.data.length === 0
            ? "Add a host and install its agent first; then come back to create a stack on it."
            : `You may not deploy stacks to any of the hosts you can see. ${needsPermission("stacks.deploy")} Ask an Owner or Admin.`}
        </NoHostEmptyState>
      );
    }
  }

  const busy = status !== "editing";
  const applyLabel = existing ? `Apply as version ${existing.version + 1}` : "Apply";

  return (
    <form aria-label={existing ? `Edit stack ${existing.name}` : "New stack"} noValidate onSubmit={onSubmit} className="grid items-start gap-6 xl:grid-cols-[minmax(0,1fr)_24rem]">
      <div className="min-w-0 space-y-6">
        {!existing ? (
          <Card title="Where">
            <fieldset disabled={busy} className="grid gap-4 sm:grid-cols-2">
              <Field label="Host">
                <HostPicker hosts={deployable.map(hostChoice)} value={hostId} onChange={setHostId} emptyLabel="Choose a host…" />
              </Field>
              <Field label="Stack name" hint="The compose project name: lower-case letters, digits, - and _." error={nameTouched ? nameError : null}>
                <Input value={name} onChange={(e) => setName(e.target.value.trim())} onBlur={() => setNameTouched(true)} placeholder="shop" autoComplete="off" spellCheck={false} />
              </Field>
            </fieldset>
          </Card>
        ) : null}

        <FilesCard
          files={files}
          active={activeFile.path}
          busy={busy}
          onActive={setActive}
          onChange={update}
          onUpload={onUpload}
          editor={
            <YamlEditor
              key={activeFile.path}
              label={activeFile.path}
              value={activeFile.content}
              onChange={(v) => setContent(activeFile.path, v)}
              readOnly={busy}
              language={isComposeName(activeFile.path) ? "yaml" : "env"}
              marks={marks}
              handleRef={editor}
              testId="stack-editor"
            />
          }
        />

        <Card title="Profiles">
          <Field label="Profiles to enable" hint="Services without profiles always run; list others to enable, separated by commas.">
            <Input value={files.profiles} disabled={busy} onChange={(e) => update({ ...files, profiles: e.target.value })} placeholder="debug, tools" />
          </Field>
        </Card>
      </div>

      <aside className="space-y-4 xl:sticky xl:top-4" aria-label="Check and apply">
        <Card title="Validation">
          <ValidationPanel pending={validation.pending || !validation.result} problems={problems} warnings={warnings} services={validation.result?.ok ? validation.result.model.services.length : 0} onGoTo={goTo} />
        </Card>
        <Card title="Deploy policy">
          {!hostId ? (
            <Note>Choose a host to check its deploy policy.</Note>
          ) : !valid || nameError ? (
            <Note>Checked once the files are valid{nameError ? " and the stack has a name" : ""}.</Note>
          ) : check.error && checkCurrent ? (
            <ErrorText>Could not check the policy: {errorMessage(check.error)}</ErrorText>
          ) : !verdict ? (
            <Note>Checking…</Note>
          ) : (
            <PolicyVerdict verdict={verdict} serverProblems={serverProblems} override={override} onOverride={setOverride} disabled={busy} />
          )}
        </Card>
        <Card>
          <div className="space-y-3">
            {existing ? (
              <CheckboxField
                label="Remove orphans"
                hint="Remove the containers of services no longer in the file."
                checked={removeOrphans}
                onChange={setRemoveOrphans}
                disabled={busy}
              />
            ) : null}
            <Button type="submit" className="w-full" disabled={busy || (blocked && valid)}>
              {status === "applying" ? "Applying…" : status === "opening" ? "Opening the stack…" : applyLabel}
            </Button>
            {!busy && !valid && !validation.pending ? <p className="text-xs text-rose-700 dark:text-rose-400">Fix the problems listed above first.</p> : null}
            {!busy && blocked && valid ? (
              <p className="text-xs text-rose-700 dark:text-rose-400">
                {verdict?.mayOverride ? "The deploy policy forbids this; tick “Override the policy” to apply anyway." : "The host's deploy policy forbids a service; change the fields named above."}
              </p>
            ) : null}
            {refusal ? (
              <div className="space-y-1">
                <FormError message={refusal.message} />
                {refusal.violations.length ? (
                  <ul className="list-disc pl-5 text-xs text-rose-700 dark:text-rose-400">
                    {refusal.violations.map((v, i) => (
                      <li key={i}>{v.message}</li>
                    ))}
                  </ul>
                ) : null}
              </div>
            ) : null}
            {failed ? (
              <div className="space-y-1" data-testid="apply-failed">
                <FormError message={`Version ${failed.version} failed: ${failed.error ?? "see the stack page."}`} />
                <Link href={`/stacks/${failed.stackId}`} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
                  Open the stack
                </Link>
              </div>
            ) : null}
            {status !== "editing" || progress.services.length || progress.messages.length ? <StackProgress progress={progress} title="Apply progress" /> : null}
          </div>
        </Card>
      </aside>
    </form>
  );
}

function FilesCard({
  files,
  active,
  busy,
  onActive,
  onChange,
  onUpload,
  editor,
}: {
  files: EditorFiles;
  active: string;
  busy: boolean;
  onActive: (path: string) => void;
  onChange: (files: EditorFiles) => void;
  onUpload: (e: ChangeEvent<HTMLInputElement>) => void;
  editor: ReactNode;
}) {
  const [adding, setAdding] = useState<string | null>(null);
  const uploadId = useId();
  const panelId = useId();
  const paths = files.files.map((f) => f.path);
  const addError = adding === null ? null : pathProblem(adding.trim(), paths);
  const order = files.composeFiles;

  const add = () => {
    const path = (adding ?? "").trim();
    if (pathProblem(path, paths)) return;
    const next: EditorFiles = { ...files, files: [...files.files, { path, content: "" }], composeFiles: isComposeName(path) ? [...order, path] : order };
    onChange(next);
    onActive(path);
    setAdding(null);
  };
  const remove = (path: string) => {
    const next: EditorFiles = { ...files, files: files.files.filter((f) => f.path !== path), composeFiles: order.filter((p) => p !== path) };
    onChange(next);
    if (active === path) onActive(next.composeFiles[0] ?? next.files[0]!.path);
  };
  const move = (path: string, by: -1 | 1) => {
    const i = order.indexOf(path);
    const j = i + by;
    if (i === -1 || j < 0 || j >= order.length) return;
    const next = [...order];
    [next[i], next[j]] = [next[j]!, next[i]!];
    onChange({ ...files, composeFiles: next });
  };
  const removable = (path: string) => path !== DOTENV && !(order.length === 1 && order[0] === path);

  return (
    <Card
      title="Files"
      actions={
        <div className="flex flex-wrap items-center gap-2">
          <label htmlFor={uploadId} className={`cursor-pointer rounded-md border border-slate-300 px-2 py-1 text-xs font-medium hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800 ${busy ? "pointer-events-none opacity-50" : ""}`}>
            Upload files…
          </label>
          <input id={uploadId} type="file" multiple className="sr-only" aria-label="Upload compose or .env files" disabled={busy} accept=".yml,.yaml,.env,text/*" onChange={onUpload} />
          <Button variant="secondary" size="xs" disabled={busy} onClick={() => setAdding("")}>
            Add file
          </Button>
        </div>
      }
    >
      <div className="space-y-3">
        <div role="tablist" aria-label="Stack files" className="flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800">
          {files.files.map((f) => {
            const n = order.indexOf(f.path);
            return (
              <button
                key={f.path}
                type="button"
                role="tab"
                aria-selected={f.path === active}
                aria-controls={panelId}
                onClick={() => onActive(f.path)}
                className={`-mb-px rounded-t-md border px-3 py-1.5 font-mono text-xs ${
                  f.path === active
                    ? "border-slate-200 border-b-white bg-white font-semibold dark:border-slate-800 dark:border-b-slate-900 dark:bg-slate-900"
                    : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400"
                }`}
              >
                {f.path}
                {n >= 0 && order.length > 1 ? <span className="ml-1 text-slate-400">({n + 1})</span> : null}
              </button>
            );
          })}
        </div>
        {adding !== null ? (
          <div className="flex flex-wrap items-end gap-2">
            <div className="min-w-48 flex-1">
              <Field label="New file's name" hint="compose.override.yaml (merged after the others), app.env (an env_file) …" error={adding ? addError : null}>
                <Input
                  value={adding}
                  autoFocus
                  onChange={(e) => setAdding(e.target.value)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter") {
                      e.preventDefault();
                      add();
                    }
                  }}
                />
              </Field>
            </div>
            <Button size="sm" disabled={Boolean(addError)} onClick={add}>
              Add
            </Button>
            <Button size="sm" variant="secondary" onClick={() => setAdding(null)}>
              Cancel
            </Button>
          </div>
        ) : null}
        <div id={panelId} role="tabpanel" aria-label={active}>
          {editor}
        </div>
        <div className="flex flex-wrap items-center justify-between gap-2 text-xs text-slate-500">
          <span>
            {active === DOTENV
              ? "Variables for ${VAR} in the compose files (KEY=value per line). Left out when empty."
              : isComposeName(active)
                ? order.length > 1
                  ? `Compose file ${order.indexOf(active) + 1} of ${order.length}: later files override earlier ones.`
                  : "The compose file."
                : "A file the compose files refer to (an env_file)."}
          </span>
          <span className="flex gap-1">
            {order.includes(active) && order.length > 1 ? (
              <>
                <Button variant="ghost" size="xs" disabled={busy || order.indexOf(active) === 0} onClick={() => move(active, -1)}>
                  Merge earlier
                </Button>
                <Button variant="ghost" size="xs" disabled={busy || order.indexOf(active) === order.length - 1} onClick={() => move(active, 1)}>
                  Merge later
                </Button>
              </>
            ) : null}
            {removable(active) ? (
              <Button variant="ghostDanger" size="xs" disabled={busy} onClick={() => remove(active)}>
                Remove {active}
              </Button>
            ) : null}
          </span>
        </div>
      </div>
    </Card>
  );
}

function ValidationPanel({
  pending,
  problems,
  warnings,
  services,
  onGoTo,
}: {
  pending: boolean;
  problems: StackProblem[];
  warnings: StackProblem[];
  services: number;
  onGoTo: (p: StackProblem) => void;
}) {
  if (pending && problems.length === 0) return <Note>Checking…</Note>;
  return (
    <div className="space-y-2" data-testid="validation">
      {problems.length === 0 ? (
        <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400" data-testid="validation-ok">
          ✓ Valid: {services} service{services === 1 ? "" : "s"}.
        </p>
      ) : (
        <ProblemList title="Problems" problems={problems} onGoTo={onGoTo} tone="error" />
      )}
      {warnings.length ? <ProblemList title="Warnings" problems={warnings} onGoTo={onGoTo} tone="warning" /> : null}
    </div>
  );
}

function ProblemList({ title, problems, onGoTo, tone }: { title: string; problems: StackProblem[]; onGoTo: (p: StackProblem) => void; tone: "error" | "warning" }) {
  return (
    <ul aria-label={title} role={tone === "error" ? "alert" : undefined} className={`space-y-1 text-sm ${tone === "error" ? "text-rose-700 dark:text-rose-400" : "text-amber-800 dark:text-amber-300"}`} data-testid={tone === "error" ? "problems" : "warnings"}>
      {problems.map((p, i) => (
        <li key={i} data-testid="problem">
          {p.line ? (
            <button type="button" className="mr-1 font-mono text-xs underline" onClick={() => onGoTo(p)} title="Show this line in the editor">
              {problemWhere(p)}
            </button>
          ) : (
            <span className="mr-1 font-mono text-xs">{problemWhere(p)}</span>
          )}
          {p.message}
        </li>
      ))}
    </ul>
  );
}

function PolicyVerdict({
  verdict,
  serverProblems,
  override,
  onOverride,
  disabled,
}: {
  verdict: { services: { name: string; image: string; allowed: boolean; violations: PolicyViolation[] }[]; mayOverride: boolean };
  serverProblems: StackProblem[];
  override: boolean;
  onOverride: (v: boolean) => void;
  disabled: boolean;
}) {
  const denied = verdict.services.some((s) => !s.allowed);
  return (
    <div className="space-y-3">
      {serverProblems.length ? (
        <ul role="alert" className="space-y-1 text-sm text-rose-700 dark:text-rose-400" aria-label="Problems on this host">
          {serverProblems.map((p, i) => (
            <li key={i}>
              {problemWhere(p) ? <span className="mr-1 font-mono text-xs">{problemWhere(p)}</span> : null}
              {p.message}
            </li>
          ))}
        </ul>
      ) : null}
      <ul className="space-y-2 text-sm" aria-label="Policy verdict per service" data-testid="policy-verdict">
        {verdict.services.map((s) => (
          <li key={s.name} data-testid="service-verdict">
            <div className={s.allowed ? "text-emerald-700 dark:text-emerald-400" : "text-rose-700 dark:text-rose-400"}>
              {s.allowed ? "✓" : "✗"} <span className="font-medium">{s.name}</span> <span className="font-mono text-xs text-slate-500">{s.image}</span>
            </div>
            {s.violations.length ? (
              <ul className="ml-5 list-disc text-xs text-rose-700 dark:text-rose-400">
                {s.violations.map((v, i) => (
                  <li key={i}>
                    {v.message} <span className="text-slate-500">(rule {v.rule}, field {v.field})</span>
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ul>
      {denied && verdict.mayOverride ? (
        <CheckboxField
          label="Override the policy for this apply"
          hint="You may, as a host manager. The overridden rules are written to the audit log."
          checked={override}
          onChange={onOverride}
          disabled={disabled}
        />
      ) : null}
    </div>
  );
}
