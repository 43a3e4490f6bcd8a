import { Badge, type Tone } from "@/components/ui/badge";
import type { ServiceHealth, StackServiceSummary, StackStatus } from "./types";

// How a stack and its services look in lists and on the stack page: the
// stack's status as a word, each service as a chip "web 2/2 healthy".

const STATUS_TONE: Record<StackStatus, Tone> = {
  running: "green",
  partial: "amber",
  stopped: "slate",
  applying: "sky",
  failed: "red",
  down: "slate",
};

const STATUS_EXPLAIN: Record<StackStatus, string> = {
  running: "Every service runs all its replicas.",
  partial: "Some services run fewer replicas than asked for.",
  stopped: "The stack's containers exist but none runs.",
  applying: "A version is being applied.",
  failed: "The last apply failed.",
  down: "Taken down: no containers.",
};

export function StackStatusBadge({ status }: { status: StackStatus }) {
  return (
    <span title={STATUS_EXPLAIN[status]} data-testid="stack-status">
      <Badge tone={STATUS_TONE[status]}>{status}</Badge>
    </span>
  );
}

export function healthTone(health: ServiceHealth | string | null): Tone {
  if (health === "healthy") return "green";
  if (health === "unhealthy") return "red";
  if (health === "starting") return "amber";
  return "slate";
}

export function serviceTone(s: StackServiceSummary): Tone {
  if (s.health === "unhealthy") return "red";
  if (s.replicas === 0) return "slate";
  if (s.running < s.replicas) return s.running === 0 ? "red" : "amber";
  return s.health === "starting" ? "amber" : "green";
}

/** "web 2/2 · healthy": the service's replicas running of those asked for, and its health when it has a check. */
export function serviceText(s: StackServiceSummary): string {
  return `${s.name} ${s.running}/${s.replicas}${s.health ? ` · ${s.health}` : ""}`;
}

export function ServiceChips({ services }: { services: StackServiceSummary[] }) {
  if (services.length === 0) return <span className="text-xs text-slate-500">no services</span>;
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Services">
      {services.map((s) => (
        <li key={s.name} data-testid="service-chip">
          <Badge tone={serviceTone(s)}>{serviceText(s)}</Badge>
        </li>
      ))}
    </ul>
  );
}
