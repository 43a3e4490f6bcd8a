"use client";
import { keepPreviousData, skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { covers, needsPermission, type HostCoverage } from "@/components/hosts/coverage";
import { statusOf } from "@/components/hosts/host-status";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { Field, FormError, Input, Select, inputClass } from "@/components/ui/field";
import { useDebounced } from "@/components/ui/use-debounced";
import { formatDockerRun } from "@/lib/deploy/docker-run/format";
import { DockerRunParseError, parseDockerRun } from "@/lib/deploy/docker-run/parse";
import {
  checkForm,
  emptyDevice,
  emptyEnv,
  emptyForm,
  emptyLabel,
  emptyMount,
  emptyPort,
  fieldFor,
  formFromSpec,
  pathOf,
  usesAdvanced,
  type DeployFormState,
  type MountRow,
} from "./form-state";
import { OperationProgress } from "./operation-progress";
import { useOperationProgress } from "./use-operation-progress";

// The deploy form: everything a DeploySpec can say, validated as you type with
// the same schema the server uses, judged by the host's deploy policy (asked
// debounced), shown as the equivalent `docker run`, and fillable from a pasted
// one. Deploying streams pull progress per layer, then opens the container.

const POLICY_DEBOUNCE_MS = 400;
const DEPLOY_REASON = needsPermission("containers.deploy");

type Violation = { rule: string; label: string; message: string; field: string };

export function DeployForm({ deploy: deployCoverage, initialHostId }: { deploy: HostCoverage; initialHostId: string | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const registries = useQuery({ ...trpc.registries.choices.queryOptions(), retry: false });
  const deployable = useMemo(() => (hosts.data ?? []).filter((h) => covers(deployCoverage, h)), [hosts.data, deployCoverage]);

  const [form, setForm] = useState<DeployFormState>(() => emptyForm(initialHostId ?? ""));
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [override, setOverride] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const [serverError, setServerError] = useState<{ message: string; fields: Record<string, string>; violations: Violation[] } | null>(null);
  const [status, setStatus] = useState<"editing" | "deploying" | "opening">("editing");
  const { progress, run } = useOperationProgress();
  const deploy = useMutation(trpc.containers.deploy.mutationOptions());

  // Pick the only host, or the asked-for one once the list arrives.
  useEffect(() => {
    if (form.hostId && deployable.some((h) => h.id === form.hostId)) return;
    const pick = deployable.length === 1 ? deployable[0]!.id : "";
    if (pick !== form.hostId && (pick || (hosts.data && form.hostId))) setForm((f) => ({ ...f, hostId: pick }));
  }, [deployable, form.hostId, hosts.data]);

  const checked = useMemo(() => checkForm(form), [form]);
  const { built, spec } = checked;

  // The deploy policy of the chosen host, asked once typing pauses and the spec is valid.
  const policyInput = useDebounced(spec && form.hostId ? JSON.stringify({ hostId: form.hostId, spec }) : null, POLICY_DEBOUNCE_MS);
  const policy = useQuery({
    ...trpc.policy.check.queryOptions(policyInput ? (JSON.parse(policyInput) as { hostId: string; spec: NonNullable<typeof spec> }) : skipToken),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 30_000,
  });
  const violations: Violation[] = policyInput && policy.data ? policy.data.violations : [];
  const mayOverride = policy.data?.mayOverride ?? false;
  const violationsByField = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const v of violations) (out[fieldFor(pathOf(v.field), built.index)] ??= []).push(v.message);
    return out;
  }, [violations, built.index]);

  const update = (patch: Partial<DeployFormState>, ...fields: string[]) => {
    setForm((f) => ({ ...f, ...patch }));
    if (fields.length) setTouched((t) => new Set([...t, ...fields]));
    setServerError(null);
  };
  /** The message to show under a field: the server's, the policy's, then the form's own once touched or submitted. */
  const errorOf = (field: string, ...aliases: string[]): string | null => {
    for (const f of [field, ...aliases]) {
      if (serverError?.fields[f]) return serverError.fields[f]!;
      const v = violationsByField[f];
      if (v?.length) return v.join(" ");
      if (checked.errors[f] && (submitted || touched.has(f))) return checked.errors[f]!;
    }
    return null;
  };

  const command = spec ? formatDockerRun(spec, { maskSecrets: true }) : null;
  const blockedByPolicy = violations.length > 0 && !(mayOverride && override);
  const busy = status !== "editing";

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setServerError(null);
    // A spec the policy forbids still goes to the server: it refuses it (and audits the denial), and
    // its answer names each broken rule next to its field.
    if (!spec || busy) return;
    const hostId = form.hostId;
    setStatus("deploying");
    try {
      const result = await run((progressToken) => deploy.mutateAsync({ hostId, spec, overridePolicy: mayOverride && override, progressToken }));
      setStatus("opening");
      await qc.invalidateQueries(trpc.containers.pathFilter());
      router.push(`/containers/${hostId}/${result.containerId}`);
    } catch (err) {
      setStatus("editing");
      const fields: Record<string, string> = {};
      for (const [path, message] of Object.entries(fieldErrors(err))) {
        if (path.startsWith("spec.")) fields[fieldFor(pathOf(path.slice(5)), built.index)] ??= message;
        else fields[path] ??= message;
      }
      const data = (err as { data?: { policyViolations?: Violation[] } } | null)?.data;
      setServerError({ message: errorMessage(err), fields, violations: data?.policyViolations ?? [] });
    }
  }

  if (hosts.error) return <FormError message={errorMessage(hosts.error)} />;
  if (!hosts.data) return <p className="text-sm text-slate-500">Loading…</p>;
  if (deployable.length === 0) {
    return (
      <EmptyState
        title="No host to deploy to"
        action={
          <Link href="/hosts" className="text-sm font-medium text-sky-700 underline dark:text-sky-400">
            Go to Hosts
          </Link>
        }
      >
        {hosts.data.length === 0
          ? "Add a host and install its agent first; then come back to deploy a container to it."
          : `You may not deploy to any of the hosts you can see. ${DEPLOY_REASON} Ask an Owner or Admin.`}
      </EmptyState>
    );
  }
  const host = deployable.find((h) => h.id === form.hostId);

  return (
    <div className="grid items-start gap-6 xl:grid-cols-[minmax(0,1fr)_22rem]">
      <div className="space-y-6">
        <PasteDockerRun
          disabled={busy}
          onParsed={(parsed) => {
            const next = formFromSpec(parsed, form.hostId);
            setForm(next);
            setTouched(new Set());
            setSubmitted(false);
            setOverride(false);
            setServerError(null);
            if (usesAdvanced(next)) setAdvancedOpen(true);
          }}
        />

        <form id="deploy-form" aria-label="Deploy a container" noValidate onSubmit={onSubmit} className="space-y-6">
          <fieldset disabled={busy} className="space-y-6">
            <Card title="Image">
              <div className="grid gap-4 sm:grid-cols-2">
                <Field label="Host" error={errorOf("hostId")}>
                  <Select value={form.hostId} onChange={(e) => update({ hostId: e.target.value }, "hostId")} data-testid="deploy-host">
                    <option value="">Choose a host…</option>
                    {deployable.map((h) => (
                      <option key={h.id} value={h.id}>
                        {h.name}
                        {h.status === "connected" ? "" : ` (${statusOf(h).label})`}
                      </option>
                    ))}
                  </Select>
                </Field>
                <Field label="Container name" hint="Optional; a name is made from the image when empty." error={errorOf("name")}>
                  <Input value={form.name} onChange={(e) => update({ name: e.target.value }, "name")} placeholder="web" autoComplete="off" />
                </Field>
                <div className="sm:col-span-2">
                  <Field label="Image" hint="e.g. nginx:1.27 or registry.example.com/team/app:2.3" error={errorOf("image")}>
                    <Input value={form.image} onChange={(e) => update({ image: e.target.value }, "image")} placeholder="nginx:1.27" autoComplete="off" spellCheck={false} />
                  </Field>
                </div>
                <Field
                  label="Registry credentials"
                  hint={registries.error ? "Saved registries could not be read." : "For a private image: a saved registry's login."}
                  error={errorOf("registryId")}
                >
                  <Select value={form.registryId} onChange={(e) => update({ registryId: e.target.value }, "registryId")}>
                    <option value="">None (anonymous pull)</option>
                    {(registries.data ?? []).map((r) => (
                      <option key={r.id} value={r.id}>
                        {r.name} ({r.address})
                      </option>
                    ))}
                  </Select>
                </Field>
                <Field label="Pull policy" error={errorOf("pullPolicy")}>
                  <Select value={form.pullPolicy} onChange={(e) => update({ pullPolicy: e.target.value as DeployFormState["pullPolicy"] }, "pullPolicy")}>
                    <option value="missing">If missing on the host</option>
                    <option value="always">Always pull</option>
                    <option value="never">Never pull (use the host&apos;s copy)</option>
                  </Select>
                </Field>
              </div>
              {host && host.status !== "connected" ? (
                <p role="status" className="mt-3 text-xs text-amber-700 dark:text-amber-400">
                  {host.name} is {statusOf(host).label}: a deploy needs its agent to answer.
                </p>
              ) : null}
            </Card>

            <Card title="Command">
              <div className="grid gap-4 sm:grid-cols-2">
                <div className="sm:col-span-2">
                  <Field
                    label="Command"
                    hint={built.notes.command ?? "Replaces the image's command. One line, split like a shell: quote arguments with spaces."}
                    error={errorOf("command")}
                  >
                    <Input
                      value={form.command}
                      onChange={(e) => update({ command: e.target.value }, "command")}
                      placeholder={`sh -c 'echo hello && exec httpd -f'`}
                      className="font-mono"
                      spellCheck={false}
                      autoComplete="off"
                    />
                  </Field>
                </div>
                <div className="sm:col-span-2">
                  <Field label="Entrypoint" hint={built.notes.entrypoint ?? "Replaces the image's entrypoint (rarely needed)."} error={errorOf("entrypoint")}>
                    <Input
                      value={form.entrypoint}
                      onChange={(e) => update({ entrypoint: e.target.value }, "entrypoint")}
                      className="font-mono"
                      spellCheck={false}
                      autoComplete="off"
                    />
                  </Field>
                </div>
                <Field label="Working directory" error={errorOf("workingDir")}>
                  <Input value={form.workingDir} onChange={(e) => update({ workingDir: e.target.value }, "workingDir")} placeholder="/app" />
                </Field>
                <Field label="User" hint="user, uid, user:group or uid:gid" error={errorOf("user")}>
                  <Input value={form.user} onChange={(e) => update({ user: e.target.value }, "user")} placeholder="1000:1000" />
                </Field>
                <Field label="Hostname" error={errorOf("hostname")}>
                  <Input value={form.hostname} onChange={(e) => update({ hostname: e.target.value }, "hostname")} />
                </Field>
              </div>
            </Card>

            <Card title="Environment variables" actions={<AddButton label="Add variable" onClick={() => update({ env: [...form.env, emptyEnv()] })} />}>
              {form.env.length === 0 ? <Empty>No variables. Secret values are stored sealed and never shown again.</Empty> : null}
              <ul className="space-y-3">
                {form.env.map((row, i) => {
                  const setRow = (patch: Partial<typeof row>, field: string) =>
                    update({ env: form.env.map((r) => (r.key === row.key ? { ...r, ...patch } : r)) }, `env.${row.key}.${field}`);
                  const error = errorOf(`env.${row.key}.name`) ?? errorOf(`env.${row.key}.value`) ?? errorOf(`env.${row.key}`);
                  return (
                    <Row key={row.key} error={error} onRemove={() => update({ env: form.env.filter((r) => r.key !== row.key) })} removeLabel={`Remove variable ${i + 1}`}>
                      <input aria-label={`Variable ${i + 1} name`} className={`${inputClass} font-mono sm:w-56`} value={row.name} placeholder="NAME" onChange={(e) => setRow({ name: e.target.value }, "name")} aria-invalid={Boolean(error)} spellCheck={false} />
                      <input
                        aria-label={`Variable ${i + 1} value`}
                        // A secret is masked once typed; the server keeps it sealed and never sends it back.
                        type={row.secret ? "password" : "text"}
                        autoComplete={row.secret ? "new-password" : "off"}
                        className={`${inputClass} font-mono`}
                        value={row.value}
                        placeholder="value"
                        onChange={(e) => setRow({ value: e.target.value }, "value")}
                        spellCheck={false}
                      />
                      <label className="flex shrink-0 items-center gap-1.5 text-sm">
                        <input type="checkbox" checked={row.secret} onChange={(e) => setRow({ secret: e.target.checked }, "secret")} />
                        Secret
                      </label>
                    </Row>
                  );
                })}
              </ul>
            </Card>

            <Card title="Published ports" actions={<AddButton label="Add port" onClick={() => update({ ports: [...form.ports, emptyPort()] })} />}>
              {form.ports.length === 0 ? <Empty>No ports published. Add one to reach the container from outside its host.</Empty> : null}
              <ul className="space-y-3">
                {form.ports.map((row, i) => {
                  const setRow = (patch: Partial<typeof row>, field: string) =>
                    update({ ports: form.ports.map((r) => (r.key === row.key ? { ...r, ...patch } : r)) }, `ports.${row.key}.${field}`);
                  const error =
                    errorOf(`ports.${row.key}.hostPort`) ?? errorOf(`ports.${row.key}.containerPort`) ?? errorOf(`ports.${row.key}.hostIp`) ?? errorOf(`ports.${row.key}`);
                  return (
                    <Row key={row.key} error={error} onRemove={() => update({ ports: form.ports.filter((r) => r.key !== row.key) })} removeLabel={`Remove port ${i + 1}`}>
                      <input aria-label={`Host IP ${i + 1}`} className={`${inputClass} sm:w-36`} value={row.hostIp} placeholder="all addresses" onChange={(e) => setRow({ hostIp: e.target.value }, "hostIp")} />
                      <input aria-label={`Host port ${i + 1}`} inputMode="numeric" className={`${inputClass} sm:w-32`} value={row.hostPort} placeholder="host port" onChange={(e) => setRow({ hostPort: e.target.value }, "hostPort")} />
                      <span className="hidden text-slate-400 sm:inline" aria-hidden>
                        →
                      </span>
                      <input aria-label={`Container port ${i + 1}`} inputMode="numeric" className={`${inputClass} sm:w-32`} value={row.containerPort} placeholder="container port" onChange={(e) => setRow({ containerPort: e.target.value }, "containerPort")} />
                      <select aria-label={`Protocol ${i + 1}`} className={`${inputClass} sm:w-24`} value={row.protocol} onChange={(e) => setRow({ protocol: e.target.value as "tcp" | "udp" }, "protocol")}>
                        <option value="tcp">tcp</option>
                        <option value="udp">udp</option>
                      </select>
                    </Row>
                  );
                })}
              </ul>
            </Card>

            <Card title="Volumes, bind mounts and tmpfs" actions={<AddButton label="Add mount" onClick={() => update({ mounts: [...form.mounts, emptyMount()] })} />}>
              {form.mounts.length === 0 ? <Empty>Nothing mounted: the container&apos;s files live and die with it.</Empty> : null}
              <ul className="space-y-3">
                {form.mounts.map((row, i) => (
                  <MountEditor
                    key={row.key}
                    row={row}
                    n={i + 1}
                    error={errorOf(`mounts.${row.key}.source`) ?? errorOf(`mounts.${row.key}.target`) ?? errorOf(`mounts.${row.key}.sizeBytes`) ?? errorOf(`mounts.${row.key}`)}
                    onChange={(patch, field) => update({ mounts: form.mounts.map((r) => (r.key === row.key ? { ...r, ...patch } : r)) }, `mounts.${row.key}.${field}`)}
                    onRemove={() => update({ mounts: form.mounts.filter((r) => r.key !== row.key) })}
                  />
                ))}
              </ul>
            </Card>

            <Card title="Network, restart and limits">
              <div className="grid gap-4 sm:grid-cols-2">
                <Field label="Network" hint={form.hostNetwork ? "The host network is chosen under Advanced." : "Empty: the default bridge. Or a network's name."} error={errorOf("network")}>
                  <Input value={form.hostNetwork ? "host" : form.network} disabled={form.hostNetwork} onChange={(e) => update({ network: e.target.value }, "network")} placeholder="bridge" />
                </Field>
                <Field label="Network aliases" hint="Names other containers on the network use; separate with spaces." error={errorOf("aliases")}>
                  <Input value={form.aliases} onChange={(e) => update({ aliases: e.target.value }, "aliases")} placeholder="api db" />
                </Field>
                <Field label="Restart policy" error={errorOf("restartPolicy")}>
                  <Select value={form.restart} onChange={(e) => update({ restart: e.target.value as DeployFormState["restart"] }, "restartPolicy")}>
                    <option value="no">Never restart</option>
                    <option value="always">Always</option>
                    <option value="unless-stopped">Unless stopped</option>
                    <option value="on-failure">On failure</option>
                  </Select>
                </Field>
                {form.restart === "on-failure" ? (
                  <Field label="Maximum retries" hint="Empty: no limit." error={null}>
                    <Input inputMode="numeric" value={form.maxRetries} onChange={(e) => update({ maxRetries: e.target.value }, "restartPolicy")} />
                  </Field>
                ) : (
                  <div className="hidden sm:block" />
                )}
                {/* The unit sits beside the label, not in it: the number's name stays "Memory limit". */}
                <div className="flex items-start gap-2">
                  <div className="flex-1">
                    <Field label="Memory limit" hint="Empty: no limit." error={errorOf("memoryBytes")}>
                      <Input inputMode="decimal" value={form.memory} onChange={(e) => update({ memory: e.target.value }, "memoryBytes")} placeholder="512" />
                    </Field>
                  </div>
                  <div className="mt-6 w-24 shrink-0">
                    <select
                      aria-label="Memory unit"
                      className={inputClass}
                      value={form.memoryUnit}
                      onChange={(e) => update({ memoryUnit: e.target.value as DeployFormState["memoryUnit"] }, "memoryBytes")}
                    >
                      <option value="k">KiB</option>
                      <option value="m">MiB</option>
                      <option value="g">GiB</option>
                    </select>
                  </div>
                </div>
                <Field label="CPUs" hint="e.g. 0.5 for half a CPU; empty: no limit." error={errorOf("cpus")}>
                  <Input inputMode="decimal" value={form.cpus} onChange={(e) => update({ cpus: e.target.value }, "cpus")} />
                </Field>
                <Field label="PIDs limit" hint="Most processes at once; empty: no limit." error={errorOf("pidsLimit")}>
                  <Input inputMode="numeric" value={form.pidsLimit} onChange={(e) => update({ pidsLimit: e.target.value }, "pidsLimit")} />
                </Field>
              </div>
            </Card>

            <Card title="Labels" actions={<AddButton label="Add label" onClick={() => update({ labels: [...form.labels, emptyLabel()] })} />}>
              {form.labels.length === 0 ? <Empty>No labels. Labels let you filter the containers list.</Empty> : null}
              <ul className="space-y-3">
                {form.labels.map((row, i) => {
                  const setRow = (patch: Partial<typeof row>) => update({ labels: form.labels.map((r) => (r.key === row.key ? { ...r, ...patch } : r)) }, `labels.${row.key}`);
                  return (
                    <Row key={row.key} error={errorOf(`labels.${row.key}`)} onRemove={() => update({ labels: form.labels.filter((r) => r.key !== row.key) })} removeLabel={`Remove label ${i + 1}`}>
                      <input aria-label={`Label ${i + 1} key`} className={`${inputClass} font-mono sm:w-64`} value={row.name} placeholder="com.example.team" onChange={(e) => setRow({ name: e.target.value })} />
                      <input aria-label={`Label ${i + 1} value`} className={`${inputClass} font-mono`} value={row.value} placeholder="value" onChange={(e) => setRow({ value: e.target.value })} />
                    </Row>
                  );
                })}
              </ul>
            </Card>

            <details
              open={advancedOpen}
              onToggle={(e) => setAdvancedOpen((e.target as HTMLDetailsElement).open)}
              className="rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900"
            >
              <summary className="cursor-pointer px-4 py-3 text-sm font-semibold">Advanced: privileges, host namespaces, devices, health check</summary>
              <div className="space-y-5 border-t border-slate-200 p-4 dark:border-slate-800">
                <div className="grid gap-3 sm:grid-cols-2">
                  <Check label="Privileged" hint="Every capability and device: effectively root on the host." checked={form.privileged} onChange={(v) => update({ privileged: v }, "privileged")} error={errorOf("privileged")} />
                  <Check label="Read-only root filesystem" hint="Writes only to mounts and tmpfs." checked={form.readOnlyRootfs} onChange={(v) => update({ readOnlyRootfs: v }, "readOnlyRootfs")} error={errorOf("readOnlyRootfs")} />
                  <Check label="Host network" hint="Share the host's network stack; ports aren't published." checked={form.hostNetwork} onChange={(v) => update({ hostNetwork: v }, "network")} error={form.hostNetwork ? errorOf("network") : null} />
                  <Check label="Host PID namespace" hint="See and signal the host's processes." checked={form.pidHost} onChange={(v) => update({ pidHost: v }, "pidMode")} error={errorOf("pidMode")} />
                  <Check label="Host IPC namespace" checked={form.ipcHost} onChange={(v) => update({ ipcHost: v }, "ipcMode")} error={errorOf("ipcMode")} />
                </div>
                <div className="grid gap-4 sm:grid-cols-2">
                  <Field label="Add capabilities" hint="e.g. NET_ADMIN SYS_TIME, separated by spaces." error={errorOf("capAdd")}>
                    <Input value={form.capAdd} onChange={(e) => update({ capAdd: e.target.value }, "capAdd")} className="font-mono" spellCheck={false} />
                  </Field>
                  <Field label="Drop capabilities" hint="e.g. NET_RAW, or ALL." error={errorOf("capDrop")}>
                    <Input value={form.capDrop} onChange={(e) => update({ capDrop: e.target.value }, "capDrop")} className="font-mono" spellCheck={false} />
                  </Field>
                </div>
                <div className="space-y-2">
                  <div className="flex items-center justify-between">
                    <h3 className="text-sm font-medium text-slate-700 dark:text-slate-300">Devices</h3>
                    <AddButton label="Add device" onClick={() => update({ devices: [...form.devices, emptyDevice()] })} />
                  </div>
                  <ul className="space-y-3">
                    {form.devices.map((row, i) => {
                      const setRow = (patch: Partial<typeof row>, field: string) =>
                        update({ devices: form.devices.map((r) => (r.key === row.key ? { ...r, ...patch } : r)) }, `devices.${row.key}.${field}`);
                      const error =
                        errorOf(`devices.${row.key}.hostPath`) ?? errorOf(`devices.${row.key}.containerPath`) ?? errorOf(`devices.${row.key}.permissions`) ?? errorOf(`devices.${row.key}`);
                      return (
                        <Row key={row.key} error={error} onRemove={() => update({ devices: form.devices.filter((r) => r.key !== row.key) })} removeLabel={`Remove device ${i + 1}`}>
                          <input aria-label={`Device ${i + 1} host path`} className={`${inputClass} font-mono`} value={row.hostPath} placeholder="/dev/ttyUSB0" onChange={(e) => setRow({ hostPath: e.target.value }, "hostPath")} />
                          <input aria-label={`Device ${i + 1} container path`} className={`${inputClass} font-mono`} value={row.containerPath} placeholder="same as on the host" onChange={(e) => setRow({ containerPath: e.target.value }, "containerPath")} />
                          <input aria-label={`Device ${i + 1} permissions`} className={`${inputClass} font-mono sm:w-20`} value={row.permissions} onChange={(e) => setRow({ permissions: e.target.value }, "permissions")} />
                        </Row>
                      );
                    })}
                  </ul>
                </div>
                <div className="space-y-3">
                  <Field label="Health check" error={null}>
                    <Select value={form.healthMode} onChange={(e) => update({ healthMode: e.target.value as DeployFormState["healthMode"] }, "healthcheck.test")}>
                      <option value="image">The image&apos;s own (if any)</option>
                      <option value="command">A command</option>
                      <option value="none">None (disable the image&apos;s)</option>
                    </Select>
                  </Field>
                  {form.healthMode === "command" ? (
                    <div className="grid gap-4 sm:grid-cols-2">
                      <div className="sm:col-span-2">
                        <Field label="Health command" hint="Run by a shell in the container; exit 0 means healthy." error={errorOf("healthcheck.test")}>
                          <Input value={form.healthCmd} onChange={(e) => update({ healthCmd: e.target.value }, "healthcheck.test")} className="font-mono" placeholder="wget -qO- http://localhost/ || exit 1" spellCheck={false} />
                        </Field>
                      </div>
                      <Field label="Interval" hint="e.g. 30s" error={errorOf("healthcheck.intervalSeconds")}>
                        <Input value={form.healthInterval} onChange={(e) => update({ healthInterval: e.target.value }, "healthcheck.intervalSeconds")} />
                      </Field>
                      <Field label="Timeout" hint="e.g. 5s" error={errorOf("healthcheck.timeoutSeconds")}>
                        <Input value={form.healthTimeout} onChange={(e) => update({ healthTimeout: e.target.value }, "healthcheck.timeoutSeconds")} />
                      </Field>
                      <Field label="Start period" hint="Failures don't count for this long after start." error={errorOf("healthcheck.startPeriodSeconds")}>
                        <Input value={form.healthStartPeriod} onChange={(e) => update({ healthStartPeriod: e.target.value }, "healthcheck.startPeriodSeconds")} />
                      </Field>
                      <Field label="Retries" error={errorOf("healthcheck.retries")}>
                        <Input inputMode="numeric" value={form.healthRetries} onChange={(e) => update({ healthRetries: e.target.value }, "healthcheck.retries")} />
                      </Field>
                    </div>
                  ) : null}
                </div>
              </div>
            </details>
          </fieldset>
        </form>
      </div>

      <aside className="space-y-4 xl:sticky xl:top-4" aria-label="Review and deploy">
        <Card title="Equivalent docker run">
          {command ? (
            <div className="space-y-2">
              <pre className="max-h-64 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-900 p-3 font-mono text-xs text-slate-100" data-testid="docker-run-preview">
                {command}
              </pre>
              <CopyButton text={command} />
            </div>
          ) : (
            <p className="text-sm text-slate-500" data-testid="docker-run-preview-empty">
              {form.image.trim() ? "Fix the fields marked in the form to see the command." : "Enter an image to see the command."}
            </p>
          )}
        </Card>

        <Card title="Deploy policy">
          <PolicyPanel
            hostChosen={Boolean(form.hostId)}
            valid={Boolean(spec)}
            loading={policy.isFetching && !policy.data}
            error={policy.error ? errorMessage(policy.error) : null}
            violations={violations}
          />
          {violations.length > 0 && mayOverride ? (
            <label className="mt-3 flex items-start gap-2 rounded-md border border-amber-300 bg-amber-50 p-2 text-sm dark:border-amber-800 dark:bg-amber-950">
              <input type="checkbox" className="mt-1" checked={override} onChange={(e) => setOverride(e.target.checked)} disabled={busy} />
              <span>
                Override the policy for this deployment
                <span className="block text-xs text-slate-600 dark:text-slate-400">You may, as a host manager. The overridden rules are written to the audit log.</span>
              </span>
            </label>
          ) : null}
        </Card>

        <Card>
          <div className="space-y-3">
            <Button type="submit" form="deploy-form" className="w-full" disabled={busy}>
              {status === "deploying" ? "Deploying…" : status === "opening" ? "Opening the container…" : "Deploy"}
            </Button>
            {!busy && submitted && !spec ? <p className="text-xs text-rose-700 dark:text-rose-400">Fix the fields marked in the form first.</p> : null}
            {!busy && blockedByPolicy && spec ? (
              <p className="text-xs text-rose-700 dark:text-rose-400">
                {mayOverride ? "The deploy policy forbids this; tick “Override the policy” to deploy anyway." : "The deploy policy of this host forbids this deployment; change the fields marked."}
              </p>
            ) : null}
            {serverError ? (
              <div className="space-y-1">
                <FormError message={serverError.message} />
                {serverError.violations.length ? (
                  <ul className="list-disc pl-5 text-xs text-rose-700 dark:text-rose-400">
                    {serverError.violations.map((v, i) => (
                      <li key={i}>{v.message}</li>
                    ))}
                  </ul>
                ) : null}
              </div>
            ) : null}
            {status !== "editing" || progress.phase ? (
              <OperationProgress progress={progress} title="Deploy progress" steps={["pull", "create", "start", "done"]} />
            ) : null}
          </div>
        </Card>
      </aside>
    </div>
  );
}

function PolicyPanel({ hostChosen, valid, loading, error, violations }: { hostChosen: boolean; valid: boolean; loading: boolean; error: string | null; violations: Violation[] }) {
  if (!hostChosen) return <p className="text-sm text-slate-500">Choose a host to check its deploy policy.</p>;
  if (!valid) return <p className="text-sm text-slate-500">Checked once the form is complete.</p>;
  if (error) return <p role="alert" className="text-sm text-rose-700 dark:text-rose-400">Could not check the policy: {error}</p>;
  if (loading) return <p className="text-sm text-slate-500">Checking…</p>;
  if (violations.length === 0) {
    return (
      <p className="text-sm text-emerald-700 dark:text-emerald-400" data-testid="policy-ok">
        ✓ Allowed by this host&apos;s deploy policy.
      </p>
    );
  }
  return (
    <ul className="space-y-1 text-sm text-rose-700 dark:text-rose-400" data-testid="policy-violations" aria-label="Policy violations">
      {violations.map((v, i) => (
        <li key={i}>✗ {v.message}</li>
      ))}
    </ul>
  );
}

function PasteDockerRun({ onParsed, disabled }: { onParsed: (spec: Parameters<typeof formFromSpec>[0]) => void; disabled: boolean }) {
  const id = useId();
  const [text, setText] = useState("");
  const [result, setResult] = useState<{ error: string | null; warnings: string[]; filled: boolean }>({ error: null, warnings: [], filled: false });
  const fill = () => {
    try {
      const parsed = parseDockerRun(text);
      onParsed(parsed.spec);
      setResult({ error: null, warnings: parsed.warnings, filled: true });
    } catch (e) {
      setResult({ error: e instanceof DockerRunParseError ? e.message : "This command could not be read.", warnings: [], filled: false });
    }
  };
  return (
    <details className="rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <summary className="cursor-pointer px-4 py-3 text-sm font-semibold">Paste a docker run command</summary>
      <div className="space-y-3 border-t border-slate-200 p-4 dark:border-slate-800">
        <label htmlFor={id} className="block text-sm text-slate-600 dark:text-slate-400">
          The form is filled from its flags and image; anything it can&apos;t express is named below.
        </label>
        <textarea
          id={id}
          rows={3}
          className={`${inputClass} font-mono`}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setResult({ error: null, warnings: [], filled: false });
          }}
          placeholder="docker run -d --name web -p 8080:80 -e MODE=prod --memory 256m nginx:1.27"
          spellCheck={false}
          aria-label="docker run command"
        />
        <div className="flex flex-wrap items-center gap-3">
          <Button variant="secondary" onClick={fill} disabled={disabled || !text.trim()}>
            Fill the form
          </Button>
          {result.filled ? (
            <span role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
              The form now holds this command. Check it, then deploy.
            </span>
          ) : null}
        </div>
        {result.error ? <FormError message={result.error} /> : null}
        {result.warnings.length ? (
          <ul className="list-disc space-y-0.5 pl-5 text-xs text-amber-800 dark:text-amber-300" aria-label="Paste warnings" data-testid="paste-warnings">
            {result.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        ) : null}
      </div>
    </details>
  );
}

function MountEditor({ row, n, error, onChange, onRemove }: { row: MountRow; n: number; error: string | null; onChange: (patch: Partial<MountRow>, field: string) => void; onRemove: () => void }) {
  return (
    <Row error={error} onRemove={onRemove} removeLabel={`Remove mount ${n}`}>
      <select aria-label={`Mount ${n} type`} className={`${inputClass} sm:w-28`} value={row.type} onChange={(e) => onChange({ type: e.target.value as MountRow["type"] }, "type")}>
        <option value="volume">volume</option>
        <option value="bind">bind</option>
        <option value="tmpfs">tmpfs</option>
      </select>
      {row.type === "tmpfs" ? null : (
        <input
          aria-label={`Mount ${n} source`}
          className={`${inputClass} font-mono`}
          value={row.source}
          placeholder={row.type === "bind" ? "/path/on/host" : "volume name (empty: a new one)"}
          onChange={(e) => onChange({ source: e.target.value }, "source")}
        />
      )}
      <input aria-label={`Mount ${n} target`} className={`${inputClass} font-mono`} value={row.target} placeholder="/path/in/container" onChange={(e) => onChange({ target: e.target.value }, "target")} />
      {row.type === "tmpfs" ? (
        <input aria-label={`Mount ${n} size`} className={`${inputClass} sm:w-28`} value={row.size} placeholder="size, e.g. 64m" onChange={(e) => onChange({ size: e.target.value }, "sizeBytes")} />
      ) : (
        <label className="flex shrink-0 items-center gap-1.5 text-sm">
          <input type="checkbox" checked={row.readOnly} onChange={(e) => onChange({ readOnly: e.target.checked }, "readOnly")} />
          Read-only
        </label>
      )}
    </Row>
  );
}

function Row({ children, error, onRemove, removeLabel }: { children: ReactNode; error: string | null; onRemove: () => void; removeLabel: string }) {
  return (
    <li className="space-y-1">
      <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
        {children}
        <Button variant="ghost" aria-label={removeLabel} title={removeLabel} onClick={onRemove} className="shrink-0">
          ✕
        </Button>
      </div>
      {error ? (
        <span role="alert" className="block text-xs text-rose-600 dark:text-rose-400">
          {error}
        </span>
      ) : null}
    </li>
  );
}

function Check({ label, hint, checked, onChange, error }: { label: string; hint?: string; checked: boolean; onChange: (v: boolean) => void; error: string | null }) {
  return (
    <div>
      <label className="flex items-start gap-2 text-sm">
        <input type="checkbox" className="mt-1" checked={checked} onChange={(e) => onChange(e.target.checked)} aria-invalid={Boolean(error)} />
        <span>
          <span className="font-medium">{label}</span>
          {hint ? <span className="block text-xs text-slate-500">{hint}</span> : null}
        </span>
      </label>
      {error ? (
        <span role="alert" className="ml-6 block text-xs text-rose-600 dark:text-rose-400">
          {error}
        </span>
      ) : null}
    </div>
  );
}

function AddButton({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <Button variant="secondary" onClick={onClick} className="px-2 py-1 text-xs">
      + {label}
    </Button>
  );
}

function Empty({ children }: { children: ReactNode }) {
  return <p className="text-sm text-slate-500">{children}</p>;
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  const [available, setAvailable] = useState(false);
  // The clipboard API needs a secure context (https or localhost); known only in the browser.
  useEffect(() => setAvailable(Boolean(navigator.clipboard)), []);
  if (!available) return null;
  return (
    <Button
      variant="ghost"
      className="px-2 py-1 text-xs"
      onClick={() => {
        void navigator.clipboard.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1_500);
        });
      }}
    >
      {copied ? "Copied" : "Copy"}
    </Button>
  );
}
