import "server-only";

// The agent's GET /berth/stats answer, as the collector names it (lib/stats/bulk-stats.ts).
export type { BulkContainerStats as AgentBulkContainerStats, BulkStats as AgentBulkStats } from "../../lib/stats/bulk-stats";
