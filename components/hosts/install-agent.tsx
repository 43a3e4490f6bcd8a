"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useId, useState } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { ErrorText, SuccessText } from "@/components/ui/feedback";
import { FormError } from "@/components/ui/field";
import { CheckboxField } from "@/components/ui/form";

const STEP_ORDER = ["check", "packages", "upload", "start", "confirm"];
const STEP_LABEL: Record<string, string> = {
  check: "Checking prerequisites",
  packages: "Installing packages",
  upload: "Uploading and verifying",
  start: "Starting",
  confirm: "Confirming",
};

/**
 * Checks what the agent needs on a host and installs it: the prerequisites
 * first, then (with the user's consent for packages) the agent itself.
 */
export function InstallAgent({ hostId, onInstalled }: { hostId: string; onInstalled?: (result: { version: string; sha256: string }) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const headingId = useId();
  const [installPackages, setInstallPackages] = useState(false);
  const prereqs = useQuery({ ...trpc.hosts.prereqs.queryOptions({ hostId }), retry: false, staleTime: 0 });
  const install = useMutation(
    trpc.hosts.installAgent.mutationOptions({
      onSuccess: async (result) => {
        await Promise.all([
          qc.invalidateQueries(trpc.hosts.list.pathFilter()),
          qc.invalidateQueries(trpc.hosts.get.queryFilter({ hostId })),
          qc.invalidateQueries(trpc.hosts.prereqs.queryFilter({ hostId })),
        ]);
        onInstalled?.(result);
      },
    }),
  );
  // Real steps as the server reports them; subscribed before the install starts so none is missed.
  const [steps, setSteps] = useState<{ step: string; detail: string }[]>([]);
  useSubscription(
    trpc.hosts.installProgress.subscriptionOptions({ hostId }, { onData: (e) => setSteps((s) => [...s, { step: e.step, detail: e.detail }]) }),
  );
  const missing = prereqs.data?.missing ?? [];
  const installable = missing.filter((m) => m.package);
  const blocking = missing.filter((m) => !m.package);

  return (
    <div className="space-y-4" data-testid="install-agent">
      <section aria-labelledby={`${headingId}-prereqs`} className="space-y-2">
        <h3 id={`${headingId}-prereqs`} className="text-sm font-semibold">
          Prerequisites
        </h3>
        {prereqs.isFetching && !prereqs.data ? (
          <p role="status" className="text-sm text-slate-500">
            Checking the host (kernel features, cgroups, runc, conmon, Node.js, root)…
          </p>
        ) : prereqs.error ? (
          <div className="space-y-2">
            <ErrorText>Could not check the host: {errorMessage(prereqs.error)}</ErrorText>
            <Button variant="secondary" onClick={() => void prereqs.refetch()}>
              Check again
            </Button>
          </div>
        ) : missing.length === 0 ? (
          <SuccessText testId="prereqs-ok">Nothing is missing: the host has everything the agent needs.</SuccessText>
        ) : (
          <ul className="space-y-1 text-sm" data-testid="prereqs-missing" aria-label="Missing prerequisites">
            {missing.map((m) => (
              <li key={m.name} className="flex flex-wrap items-baseline gap-2">
                <span className="text-rose-700 dark:text-rose-400">✗</span>
                <span>{m.message}</span>
                {m.package ? <span className="font-mono text-xs text-slate-500">package: {m.package}</span> : null}
              </li>
            ))}
          </ul>
        )}
        {prereqs.data && missing.length > 0 ? (
          <Button variant="ghost" onClick={() => void prereqs.refetch()} disabled={prereqs.isFetching}>
            {prereqs.isFetching ? "Checking…" : "Check again"}
          </Button>
        ) : null}
      </section>

      {installable.length > 0 ? (
        <CheckboxField
          label="Install missing packages with the host's package manager"
          hint={`Runs ${prereqs.data?.facts.packageManager ?? "the package manager"} as root to install ${installable.map((m) => m.package).join(", ")}.`}
          checked={installPackages}
          onChange={setInstallPackages}
        />
      ) : null}
      {blocking.length > 0 ? (
        <p className="text-xs text-amber-700 dark:text-amber-400">
          Some of what is missing cannot be installed for you; fix it on the host, then check again.
        </p>
      ) : null}

      <div className="flex flex-wrap items-center gap-3">
        <Button
          disabled={install.isPending || !prereqs.data || blocking.length > 0 || (installable.length > 0 && !installPackages)}
          onClick={() => {
            setSteps([]);
            install.mutate({ hostId, installPackages });
          }}
        >
          {install.isPending ? "Installing…" : install.isSuccess ? "Install again" : "Install agent"}
        </Button>
        {installable.length > 0 && !installPackages && blocking.length === 0 ? (
          <span className="text-xs text-slate-500">Allow the package install above, or install the packages yourself and check again.</span>
        ) : null}
      </div>
      {install.isPending ? (
        <div role="status" className="space-y-1 text-sm text-slate-600 dark:text-slate-400">
          <progress className="w-full" aria-label="Installing the agent" max={STEP_ORDER.length} value={Math.max(0, ...steps.map((s) => STEP_ORDER.indexOf(s.step) + 1))} />

          <p>
            Checking prerequisites{installPackages ? ", installing packages" : ""}, uploading the agent, verifying its SHA-256 and starting it. This can take a
            minute{installPackages ? " or more while packages install" : ""}.
          </p>
        </div>
      ) : null}
      {steps.length ? (
        <ol className="space-y-0.5 text-xs" aria-label="Install steps" data-testid="install-steps">
          {steps.map((s, i) => (
            <li key={i}>
              <span className="font-medium">{STEP_LABEL[s.step] ?? s.step}</span> <span className="break-all font-mono text-slate-500">{s.detail}</span>
            </li>
          ))}
        </ol>
      ) : null}
      <FormError message={install.error ? `Installing failed: ${errorMessage(install.error)}` : null} />
      {install.data ? (
        <SuccessText testId="install-result">
          Agent {install.data.version} installed and running.{" "}
          <span className="break-all font-mono text-xs text-slate-500">sha256:{install.data.sha256}</span>
        </SuccessText>
      ) : null}
    </div>
  );
}
