"use client";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { FormError } from "@/components/ui/field";
import { OperationProgress } from "./operation-progress";
import type { Violation } from "./policy-panel";
import type { OperationProgressState } from "./use-operation-progress";

// The Deploy button and what follows a press: why it can't go yet, what the
// server refused (each broken policy rule), and the live progress.

export type DeployStatus = "editing" | "deploying" | "opening";

export interface ServerRefusal {
  message: string;
  /** Per form field, from the server's validation. */
  fields: Record<string, string>;
  violations: Violation[];
}

export function SubmitPanel({
  formId,
  status,
  submitted,
  valid,
  blockedByPolicy,
  mayOverride,
  refusal,
  progress,
}: {
  /** The <form> the button submits (it sits outside it, in the side column). */
  formId: string;
  status: DeployStatus;
  submitted: boolean;
  valid: boolean;
  blockedByPolicy: boolean;
  mayOverride: boolean;
  refusal: ServerRefusal | null;
  progress: OperationProgressState;
}) {
  const busy = status !== "editing";
  return (
    <Card>
      <div className="space-y-3">
        <Button type="submit" form={formId} className="w-full" disabled={busy}>
          {status === "deploying" ? "Deploying…" : status === "opening" ? "Opening the container…" : "Deploy"}
        </Button>
        {!busy && submitted && !valid ? <p className="text-xs text-rose-700 dark:text-rose-400">Fix the fields marked in the form first.</p> : null}
        {!busy && blockedByPolicy && valid ? (
          <p className="text-xs text-rose-700 dark:text-rose-400">
            {mayOverride ? "The deploy policy forbids this; tick “Override the policy” to deploy anyway." : "The deploy policy of this host forbids this deployment; change the fields marked."}
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
        {status !== "editing" || progress.phase ? <OperationProgress progress={progress} title="Deploy progress" steps={["pull", "create", "start", "done"]} /> : null}
      </div>
    </Card>
  );
}
