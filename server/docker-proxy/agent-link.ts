import "server-only";
import type { Duplex } from "node:stream";
import { AppError } from "../errors";
import { AgentClient, withDeadline } from "../fleet/agent/client";
import { isFleetError } from "../fleet/errors";
import type { Approved, ProxyContext } from "./context";

// The proxy's way to a host's agent: one stream per call, over the fleet's
// SSH connection, and the fleet's own typed client for the few reads the
// proxy makes itself (an image to judge, an exec's exit code to record).

/** Opening a stream to the agent: a host that is down fails at once (the fleet doesn't wait); this bounds a stuck channel. */
const OPEN_TIMEOUT_MS = 10_000;

async function openRaw(ctx: ProxyContext, hostId: string): Promise<Duplex> {
  const { fleet } = await ctx.fleet();
  const stream = await withDeadline(fleet.connection(hostId).openAgentStream(), OPEN_TIMEOUT_MS, `no channel to the agent within ${OPEN_TIMEOUT_MS / 1000} s`);
  stream.on("error", () => {});
  return stream;
}

/**
 * A stream to the approved call's agent, or UNAVAILABLE naming the host (a
 * Docker client is told 502 when the host is up but its agent isn't).
 */
export async function openAgentStream(ctx: ProxyContext, a: Approved): Promise<Duplex> {
  try {
    return await openRaw(ctx, a.host.id);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const agentDown = isFleetError(e) && e.code === "AGENT_UNREACHABLE";
    throw new AppError("UNAVAILABLE", `host ${a.host.name} can't be reached through Berth: ${why}`, { cause: e, details: { host: a.host.name, ...(agentDown ? { upstream: "agent" as const } : {}) } });
  }
}

/** The fleet's agent client over the proxy's streams, for reads the proxy makes on its own behalf (not audited). */
export function agentClient(ctx: ProxyContext, a: Approved): AgentClient {
  return new AgentClient(() => openRaw(ctx, a.host.id), a.host.name);
}
