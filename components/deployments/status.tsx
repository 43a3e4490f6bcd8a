import { Badge, type Tone } from "@/components/ui/badge";

/** A deployment's status as the deploy service keeps it (running, rolledBack, failed, …). */
export function DeploymentStatusBadge({ status }: { status: string }) {
  const tone: Tone = status === "running" ? "green" : status === "failed" ? "red" : status === "rolledBack" ? "amber" : status === "deploying" || status === "updating" ? "sky" : "slate";
  return <Badge tone={tone}>{status}</Badge>;
}
