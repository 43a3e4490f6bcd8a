import { Badge } from "@/components/ui/badge";

const OUTCOME_TONE = { success: "green", denied: "amber", error: "red" } as const;

/** An audit event's outcome (success, denied, error) in its colour. */
export function OutcomeBadge({ outcome }: { outcome: string }) {
  return <Badge tone={OUTCOME_TONE[outcome as keyof typeof OUTCOME_TONE] ?? "slate"}>{outcome}</Badge>;
}
