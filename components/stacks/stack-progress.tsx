"use client";
import { Badge, type Tone } from "@/components/ui/badge";
import type { OperationProgressState } from "@/components/deploy/use-operation-progress";
import type { StackProgressState } from "./use-stack-progress";

// An apply's progress, one row per service: its current phase, its latest
// message, and how many image layers are done while it pulls.

const PHASE: Record<string, { label: string; tone: Tone }> = {
  pull: { label: "pulling", tone: "sky" },
  push: { label: "pushing", tone: "sky" },
  create: { label: "creating", tone: "sky" },
  start: { label: "starting", tone: "sky" },
  verify: { label: "waiting for health", tone: "amber" },
  rollback: { label: "rolling back", tone: "red" },
  done: { label: "done", tone: "green" },
  error: { label: "failed", tone: "red" },
};

function layersDone(p: OperationProgressState): string | null {
  if (!p.layers.length) return null;
  const done = p.layers.filter((l) => /complete|exists/i.test(l.status)).length;
  return `${done}/${p.layers.length} layers`;
}

export function StackProgress({ progress, title }: { progress: StackProgressState; title: string }) {
  const latest = progress.messages[progress.messages.length - 1];
  return (
    <section aria-label={title} className="space-y-2" data-testid="stack-progress">
      {progress.services.length === 0 && !latest ? (
        <p role="status" className="text-sm text-slate-500">
          Starting…
        </p>
      ) : null}
      {latest ? (
        <p role="status" aria-live="polite" className="text-sm text-slate-700 dark:text-slate-300" data-testid="stack-progress-message">
          {latest}
        </p>
      ) : null}
      {progress.services.length ? (
        <ul className="space-y-1 text-sm" aria-label="Services">
          {progress.services.map(({ name, progress: p }) => {
            const phase = p.phase ? PHASE[p.phase] : undefined;
            const message = p.phases[p.phases.length - 1]?.message;
            const layers = layersDone(p);
            return (
              <li key={name} className="flex flex-wrap items-baseline gap-x-2" data-testid="service-progress" aria-label={`${name}: ${phase?.label ?? "waiting"}`}>
                <span className="font-medium">{name}</span>
                <Badge tone={phase?.tone ?? "slate"}>{phase?.label ?? "waiting"}</Badge>
                {layers ? <span className="text-xs text-slate-500">{layers}</span> : null}
                {message ? <span className="min-w-0 flex-1 truncate text-xs text-slate-600 dark:text-slate-400">{message}</span> : null}
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}
