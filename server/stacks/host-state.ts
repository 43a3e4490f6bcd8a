import "server-only";
import { COMPOSE_LABELS } from "../../lib/compose/model";
import type { AgentClient } from "../fleet/agent/client";
import type { ContainerSummary } from "../fleet/agent/types";

// What the apply engine asks of a host's agent: the AgentClient's methods it
// uses (a fake implements them in unit tests).
export type StackAgent = Pick<
  AgentClient,
  | "containers"
  | "inspectContainer"
  | "createContainer"
  | "startContainer"
  | "stopContainer"
  | "restartContainer"
  | "removeContainer"
  | "putArchive"
  | "inspectImage"
  | "pull"
  | "networks"
  | "createNetwork"
  | "removeNetwork"
  | "volumes"
  | "createVolume"
  | "removeVolume"
>;

/** A container of a stack as its labels describe it. */
export interface ProjectContainer {
  id: string;
  name: string;
  service: string;
  number: number;
  hash: string;
  state: string;
  status: string;
  image: string;
  labels: Record<string, string>;
}

export function labelFilter(labels: string[]): string {
  return JSON.stringify({ label: labels });
}

/** Every container of the project on the host (compose's labels), one-off ones excluded. */
export async function projectContainers(client: Pick<StackAgent, "containers">, project: string): Promise<ProjectContainer[]> {
  const list: ContainerSummary[] = await client.containers({ all: true, query: { filters: labelFilter([`${COMPOSE_LABELS.project}=${project}`]) } });
  return list
    .filter((c) => c.Labels?.[COMPOSE_LABELS.project] === project && c.Labels?.[COMPOSE_LABELS.oneoff] !== "True")
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      service: c.Labels?.[COMPOSE_LABELS.service] ?? "",
      number: Number(c.Labels?.[COMPOSE_LABELS.containerNumber] ?? "0") || 0,
      hash: c.Labels?.[COMPOSE_LABELS.configHash] ?? "",
      state: c.State,
      status: c.Status,
      image: c.Image,
      labels: c.Labels ?? {},
    }))
    .sort((a, b) => (a.service === b.service ? a.number - b.number : a.service < b.service ? -1 : 1));
}
