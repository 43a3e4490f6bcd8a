"use client";
import { formatBytes } from "@/components/ui/format";
import type { LayerState, OperationProgressState, ProgressEvent } from "./use-operation-progress";

const PHASE_LABEL: Record<ProgressEvent["phase"], string> = {
  pull: "Pull",
  push: "Push",
  create: "Create",
  start: "Start",
  verify: "Verify",
  rollback: "Roll back",
  done: "Done",
  error: "Failed",
};

function layerFraction(l: LayerState): number | null {
  if (/complete|exists/i.test(l.status)) return 1;
  if (l.total && l.current !== undefined) return Math.min(1, l.current / l.total);
  return null;
}

/** Per-layer pull bars (Docker-style statuses) and the phases an operation went through. */
export function OperationProgress({ progress, steps, title }: { progress: OperationProgressState; steps: ProgressEvent["phase"][]; title: string }) {
  const seen = new Set(progress.phases.map((p) => p.phase));
  const current = progress.phase;
  const latest = progress.phases[progress.phases.length - 1];
  return (
    <section aria-label={title} className="space-y-3" data-testid="operation-progress">
      <ol className="flex flex-wrap gap-2 text-xs" aria-label="Steps">
        {steps.map((step) => {
          const active = current === step;
          const done = seen.has(step) && !active;
          return (
            <li
              key={step}
              aria-current={active ? "step" : undefined}
              className={`rounded-full px-2.5 py-1 font-medium ${
                active
                  ? "bg-sky-600 text-white"
                  : done
                    ? "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300"
                    : "bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400"
              }`}
            >
              {done ? "✓ " : ""}
              {PHASE_LABEL[step]}
            </li>
          );
        })}
        {current === "error" || current === "rollback" ? (
          <li aria-current="step" className="rounded-full bg-rose-600 px-2.5 py-1 font-medium text-white">
            {PHASE_LABEL[current]}
          </li>
        ) : null}
      </ol>
      {latest ? (
        <p role="status" aria-live="polite" className="text-sm text-slate-700 dark:text-slate-300" data-testid="progress-message">
          {latest.message}
        </p>
      ) : (
        <p role="status" className="text-sm text-slate-500">
          Starting…
        </p>
      )}
      {progress.layers.length ? (
        <ul className="space-y-2" aria-label="Image layers">
          {progress.layers.map((l) => {
            const fraction = layerFraction(l);
            return (
              <li key={l.id} className="space-y-1 text-xs" data-testid="layer-progress">
                <div className="flex flex-wrap items-baseline justify-between gap-x-3">
                  <span className="font-mono text-slate-600 dark:text-slate-400">{l.id}</span>
                  <span className="text-slate-600 dark:text-slate-400">
                    {l.status}
                    {l.total && l.current !== undefined && fraction !== 1 ? ` ${formatBytes(l.current)} / ${formatBytes(l.total)}` : ""}
                  </span>
                </div>
                <div
                  role="progressbar"
                  aria-label={`Layer ${l.id}: ${l.status}`}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  // No value (indeterminate) until byte counts arrive.
                  aria-valuenow={fraction === null ? undefined : Math.round(fraction * 100)}
                  className="h-2 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
                >
                  <div
                    className={`h-full rounded-full transition-[width] ${fraction === 1 ? "bg-emerald-500" : "bg-sky-600"} ${fraction === null ? "w-1/4 animate-pulse" : ""}`}
                    style={fraction === null ? undefined : { width: `${Math.max(2, fraction * 100)}%` }}
                  />
                </div>
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}
