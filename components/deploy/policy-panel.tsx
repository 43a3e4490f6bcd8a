"use client";
import { keepPreviousData, skipToken, useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Card } from "@/components/ui/card";
import { ErrorText, Note } from "@/components/ui/feedback";
import { useDebounced } from "@/components/ui/use-debounced";
import type { DeploySpec } from "@/lib/deploy/spec";

// The deploy policy of the chosen host, asked once typing pauses and the spec
// is valid; the rules it breaks, and (for those who may) the choice to
// override it. The server judges again on submit: this only saves a round trip.

const POLICY_DEBOUNCE_MS = 400;

export type Violation = { rule: string; label: string; message: string; field: string };

export function usePolicyCheck(hostId: string, spec: DeploySpec | null) {
  const trpc = useTRPC();
  const input = useDebounced(spec && hostId ? JSON.stringify({ hostId, spec }) : null, POLICY_DEBOUNCE_MS);
  const policy = useQuery({
    ...trpc.policy.check.queryOptions(input ? (JSON.parse(input) as { hostId: string; spec: DeploySpec }) : skipToken),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 30_000,
  });
  const violations: Violation[] = input && policy.data ? policy.data.violations : [];
  return {
    violations,
    mayOverride: policy.data?.mayOverride ?? false,
    loading: policy.isFetching && !policy.data,
    error: policy.error ? errorMessage(policy.error) : null,
  };
}

export function PolicyCard({
  check,
  hostChosen,
  valid,
  override,
  onOverride,
  disabled,
}: {
  check: ReturnType<typeof usePolicyCheck>;
  hostChosen: boolean;
  valid: boolean;
  override: boolean;
  onOverride: (override: boolean) => void;
  disabled: boolean;
}) {
  const { violations, mayOverride } = check;
  return (
    <Card title="Deploy policy">
      <Verdict hostChosen={hostChosen} valid={valid} check={check} />
      {violations.length > 0 && mayOverride ? (
        <label className="mt-3 flex items-start gap-2 rounded-md border border-amber-300 bg-amber-50 p-2 text-sm dark:border-amber-800 dark:bg-amber-950">
          <input type="checkbox" className="mt-1" checked={override} onChange={(e) => onOverride(e.target.checked)} disabled={disabled} />
          <span>
            Override the policy for this deployment
            <span className="block text-xs text-slate-600 dark:text-slate-400">You may, as a host manager. The overridden rules are written to the audit log.</span>
          </span>
        </label>
      ) : null}
    </Card>
  );
}

function Verdict({ hostChosen, valid, check }: { hostChosen: boolean; valid: boolean; check: ReturnType<typeof usePolicyCheck> }) {
  if (!hostChosen) return <Note>Choose a host to check its deploy policy.</Note>;
  if (!valid) return <Note>Checked once the form is complete.</Note>;
  if (check.error) return <ErrorText>Could not check the policy: {check.error}</ErrorText>;
  if (check.loading) return <Note>Checking…</Note>;
  if (check.violations.length === 0) {
    return (
      <p className="text-sm text-emerald-700 dark:text-emerald-400" data-testid="policy-ok">
        ✓ Allowed by this host&apos;s deploy policy.
      </p>
    );
  }
  return (
    <ul className="space-y-1 text-sm text-rose-700 dark:text-rose-400" data-testid="policy-violations" aria-label="Policy violations">
      {check.violations.map((v, i) => (
        <li key={i}>✗ {v.message}</li>
      ))}
    </ul>
  );
}
