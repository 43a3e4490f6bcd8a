import "server-only";
import { z } from "zod";
import type { Endpoint, EndpointAnswer } from "./endpoints";
import { containerParam, idParam } from "./schemas";

// /api/v1 endpoints of the stats history (server/stats): a host's and a
// container's last hours at 1-minute resolution. Spread into ENDPOINTS.

const json = (status: number, description: string, schema: z.ZodType | null): EndpointAnswer => ({ status, description, content: { "application/json": schema } });
function endpoint<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined = undefined>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

const hostParams = z.strictObject({ hostId: idParam.describe("The host's id (GET /hosts).") });
const containerParams = hostParams.extend({ containerId: containerParam.describe("The container's id, a unique prefix of it, or its name.") });

export const statsHistoryQuery = z.strictObject({
  hours: z.coerce.number().int().min(1).max(24).default(24).describe("How far back, in hours (1–24)."),
});

export const statsHistoryBody = z
  .object({
    resolutionSeconds: z.number().int().describe("Seconds between points (60)."),
    points: z.array(
      z.object({
        at: z.string().describe("The minute (RFC 3339), oldest first."),
        cpuPercent: z.number().describe("Containers: 100 = one CPU busy (as docker stats). The host: busy share of all its CPUs, 0–100."),
        memoryBytes: z.number(),
        memoryLimitBytes: z.number().nullable().describe("The container's limit (null without one); the host's total memory."),
        netRxBytes: z.number().describe("Cumulative since the container started (the host: its running containers' sum)."),
        netTxBytes: z.number(),
        blockReadBytes: z.number(),
        blockWriteBytes: z.number(),
      }),
    ),
  })
  .meta({ id: "StatsHistory" });

export const STATS_ENDPOINTS = {
  hostStatsHistory: endpoint({
    id: "hostStatsHistory",
    method: "GET",
    path: "/hosts/{hostId}/stats/history",
    resource: "Hosts",
    summary: "The host's CPU, memory and network over the last hours, one point a minute",
    permission: "hosts.read",
    action: "api.v1.hosts.statsHistory",
    mutation: false,
    params: hostParams,
    query: statsHistoryQuery,
    answers: [json(200, "Points, oldest first; empty until the collector's first sample.", statsHistoryBody)],
    errors: [400, 403],
    example: { query: "hours=6" },
  }),
  containerStatsHistory: endpoint({
    id: "containerStatsHistory",
    method: "GET",
    path: "/hosts/{hostId}/containers/{containerId}/stats/history",
    resource: "Containers",
    summary: "A container's CPU, memory, network and block I/O over the last hours, one point a minute",
    permission: "containers.read",
    action: "api.v1.containers.statsHistory",
    mutation: false,
    params: containerParams,
    query: statsHistoryQuery,
    answers: [json(200, "Points, oldest first; empty for a container never sampled running.", statsHistoryBody)],
    errors: [400, 403],
    example: { query: "hours=24" },
  }),
};
