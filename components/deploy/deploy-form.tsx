"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { covers, needsPermission, type HostCoverage } from "@/components/hosts/coverage";
import { NoHostEmptyState } from "@/components/hosts/host-scope";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Loading } from "@/components/ui/feedback";
import { FormError } from "@/components/ui/field";
import { AdvancedSection } from "./advanced-section";
import { CommandSection } from "./command-section";
import { DockerRunPreview, PasteDockerRun } from "./docker-run-io";
import { checkForm, emptyForm, fieldFor, formFromSpec, pathOf, usesAdvanced, type DeployFormState } from "./form-state";
import { ImageSection } from "./image-section";
import { EnvSection, LabelsSection, MountsSection, PortsSection } from "./list-sections";
import { PolicyCard, usePolicyCheck, type Violation } from "./policy-panel";
import { RuntimeSection } from "./runtime-section";
import type { SectionProps } from "./section";
import { SubmitPanel, type DeployStatus, type ServerRefusal } from "./submit-panel";
import { useOperationProgress } from "./use-operation-progress";

// The deploy form: everything a DeploySpec can say, validated as you type with
// the same schema the server uses, judged by the host's deploy policy (asked
// debounced), shown as the equivalent `docker run`, and fillable from a pasted
// one. Deploying streams pull progress per layer, then opens the container.
// This file holds the state and the submit; each section is its own module.

const FORM_ID = "deploy-form";

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
  const [refusal, setRefusal] = useState<ServerRefusal | null>(null);
  const [status, setStatus] = useState<DeployStatus>("editing");
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
  const policy = usePolicyCheck(form.hostId, spec);
  const violationsByField = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const v of policy.violations) (out[fieldFor(pathOf(v.field), built.index)] ??= []).push(v.message);
    return out;
  }, [policy.violations, built.index]);

  const update = (patch: Partial<DeployFormState>, ...fields: string[]) => {
    setForm((f) => ({ ...f, ...patch }));
    if (fields.length) setTouched((t) => new Set([...t, ...fields]));
    setRefusal(null);
  };
  /** The message to show under a field: the server's, the policy's, then the form's own once touched or submitted. */
  const errorOf = (field: string, ...aliases: string[]): string | null => {
    for (const f of [field, ...aliases]) {
      if (refusal?.fields[f]) return refusal.fields[f]!;
      const v = violationsByField[f];
      if (v?.length) return v.join(" ");
      if (checked.errors[f] && (submitted || touched.has(f))) return checked.errors[f]!;
    }
    return null;
  };
  const section: SectionProps = { form, update, errorOf };

  const blockedByPolicy = policy.violations.length > 0 && !(policy.mayOverride && override);
  const busy = status !== "editing";

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setRefusal(null);
    // A spec the policy forbids still goes to the server: it refuses it (and audits the denial), and
    // its answer names each broken rule next to its field.
    if (!spec || busy) return;
    const hostId = form.hostId;
    setStatus("deploying");
    try {
      const result = await run((progressToken) => deploy.mutateAsync({ hostId, spec, overridePolicy: policy.mayOverride && override, progressToken }));
      setStatus("opening");
      await qc.invalidateQueries(trpc.containers.pathFilter());
      // A host that requires approval: nothing runs yet; the deployment's page shows the waiting rollout.
      router.push(result.awaitingApproval ? `/deployments/${result.deploymentId}` : `/containers/${hostId}/${result.containerId}`);
    } catch (err) {
      setStatus("editing");
      const fields: Record<string, string> = {};
      for (const [path, message] of Object.entries(fieldErrors(err))) {
        if (path.startsWith("spec.")) fields[fieldFor(pathOf(path.slice(5)), built.index)] ??= message;
        else fields[path] ??= message;
      }
      const data = (err as { data?: { policyViolations?: Violation[] } } | null)?.data;
      setRefusal({ message: errorMessage(err), fields, violations: data?.policyViolations ?? [] });
    }
  }

  if (hosts.error) return <FormError message={errorMessage(hosts.error)} />;
  if (!hosts.data) return <Loading />;
  if (deployable.length === 0) {
    return (
      <NoHostEmptyState title="No host to deploy to">
        {hosts.data.length === 0
          ? "Add a host and install its agent first; then come back to deploy a container to it."
          : `You may not deploy to any of the hosts you can see. ${needsPermission("containers.deploy")} Ask an Owner or Admin.`}
      </NoHostEmptyState>
    );
  }

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
            setRefusal(null);
            if (usesAdvanced(next)) setAdvancedOpen(true);
          }}
        />

        <form id={FORM_ID} aria-label="Deploy a container" noValidate onSubmit={onSubmit} className="space-y-6">
          <fieldset disabled={busy} className="space-y-6">
            <ImageSection {...section} hosts={deployable} registries={registries.data ?? []} registriesFailed={Boolean(registries.error)} />
            <CommandSection {...section} notes={built.notes} />
            <EnvSection {...section} />
            <PortsSection {...section} />
            <MountsSection {...section} />
            <RuntimeSection {...section} />
            <LabelsSection {...section} />
            <AdvancedSection {...section} open={advancedOpen} onToggle={setAdvancedOpen} />
          </fieldset>
        </form>
      </div>

      <aside className="space-y-4 xl:sticky xl:top-4" aria-label="Review and deploy">
        <DockerRunPreview spec={spec} hasImage={Boolean(form.image.trim())} />
        <PolicyCard check={policy} hostChosen={Boolean(form.hostId)} valid={Boolean(spec)} override={override} onOverride={setOverride} disabled={busy} />
        <SubmitPanel
          formId={FORM_ID}
          status={status}
          submitted={submitted}
          valid={Boolean(spec)}
          blockedByPolicy={blockedByPolicy}
          mayOverride={policy.mayOverride}
          refusal={refusal}
          progress={progress}
        />
      </aside>
    </div>
  );
}
