// Agent calls through the SSH tunnel vs directly on the agent's unix socket (issue "Hosts over SSH"):
//  1. GET /_ping and GET /containers/json, one host, over the gateway's HostConnection
//     (ssh2, one direct-streamlocal channel per request) vs the same AgentClient code on a
//     fresh unix-socket connection per request. So the difference is the transport only.
//  2. A fleet refresh: containers() of 3 hosts at once (Promise.all), tunnel vs direct.
//  3. The dial-stdio fallback (sshd forbids stream-local forwarding: an exec channel runs
//     `node berth-agent.mjs dial-stdio` per request), on a second fleet of 1 host. Reported alone.
// Target: tunnel overhead < 2 ms per call once connected.
// Hosts are the SSH test-host fixture (a netns + sshd each, shared filesystem); each gets a real
// berth-agent serving inside its namespace. The two paths are sampled alternately, so drift hits both.
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { agentConfigSchema } from "../server/fleet/agent-config";
import { AgentClient } from "../server/fleet/agent/client";
import { HostConnection } from "../server/fleet/host-connection";
import { SshLink } from "../server/fleet/link";
import { startSshHosts, type SshHostFleet, type SshHostsOptions, type SshTestHost } from "../test/fixtures/ssh-hosts";
import { AGENT_BUNDLE } from "../test/fixtures/docker-agent";
import { openUnixSocket, type RunningAgent, sleep, startHostAgent, stats, type Stats, stopHostAgent } from "./support";

const SAMPLES = Number(process.env.BENCH_TUNNEL_SAMPLES ?? 200);
const WARMUP = Number(process.env.BENCH_TUNNEL_WARMUP ?? 20);
/** The fallback starts node on the host per call (about half a second here): fewer samples keep the bench short. */
const DIAL_SAMPLES = Number(process.env.BENCH_TUNNEL_DIAL_SAMPLES ?? 15);
const DIAL_WARMUP = 2;
const HOSTS = 3;

const AGENT_START_MS = 20_000;
const CONNECT_MS = 15_000;
const POLL_MS = 100;

export type { Stats };

export interface PathPair {
  tunnel: Stats;
  direct: Stats;
}

export interface TunnelBench {
  samples: number;
  warmup: number;
  hosts: number;
  /** Containers each agent lists (fresh agents: none). */
  containers: number;
  /** SSH connect + key auth of a HostConnection, start() → "connected"; median over the hosts. */
  connectMs: number;
  ping: PathPair;
  ps: PathPair;
  /** containers() on every host at once. */
  fleet: PathPair;
  dialStdio: { samples: number; ping: PathPair; ps: PathPair };
  /** The machine's 1-minute load average when the bench started, and its CPUs: the figures are latencies, so load shows in them. */
  load: { average: number; cpus: number };
}

/**
 * Times each named task `samples` times after `warmup` untimed rounds. Within a round every task
 * runs once, in an order that rotates each round, so neither path always goes first.
 */
async function interleaved(samples: number, warmup: number, tasks: Record<string, () => Promise<unknown>>): Promise<Record<string, number[]>> {
  const names = Object.keys(tasks);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < warmup + samples; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      const start = performance.now();
      await tasks[name]!();
      const ms = performance.now() - start;
      if (round >= warmup) times[name]!.push(ms);
    }
  }
  return times;
}

// ---------------------------------------------------------------- one fleet with agents and connections

interface LiveHost {
  host: SshTestHost;
  connection: HostConnection;
  direct: AgentClient;
  connectMs: number;
}

async function waitForAgent(host: SshTestHost, agent: RunningAgent, direct: AgentClient): Promise<void> {
  let gone = false;
  void agent.exited.then(() => (gone = true));
  let last = "";
  const deadline = Date.now() + AGENT_START_MS;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`the agent on ${host.name} exited at start:\n${agent.stderr()}`);
    try {
      if ((await direct.ping({ timeoutMs: 2_000 })) === "OK") return;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(POLL_MS);
  }
  throw new Error(`the agent on ${host.name} did not answer /_ping within ${AGENT_START_MS / 1000} s (${last}):\n${agent.stderr()}`);
}

async function connect(fleet: SshHostFleet, host: SshTestHost): Promise<{ connection: HostConnection; connectMs: number }> {
  const connection = new HostConnection({
    hostId: `bench-${host.name}`,
    name: host.name,
    agent: agentConfigSchema.parse({ ...host.agent }),
    ssh: {
      address: host.address,
      port: host.port,
      username: "root",
      auth: { method: "key", privateKey: fleet.clientKey.privateKey },
      pinned: await host.fingerprint(),
    },
  });
  const start = performance.now();
  connection.start();
  const deadline = Date.now() + CONNECT_MS;
  while (connection.state !== "connected") {
    if (connection.state === "hostKeyChanged" || connection.state === "authFailed" || Date.now() > deadline) {
      const why = `${connection.state}${connection.message ? `: ${connection.message}` : ""}`;
      connection.stop();
      throw new Error(`${host.name} did not connect within ${CONNECT_MS / 1000} s (${why})`);
    }
    await sleep(1);
  }
  return { connection, connectMs: performance.now() - start };
}

/**
 * A fleet of `count` hosts, an agent serving on each and a connected HostConnection to each; `use`
 * runs against them. Everything is stopped and torn down afterwards, whether `use` succeeds or not.
 */
async function withFleet<T>(count: number, options: SshHostsOptions, use: (hosts: LiveHost[]) => Promise<T>): Promise<T> {
  const fleet = await startSshHosts(count, options);
  const agents: RunningAgent[] = [];
  const connections: HostConnection[] = [];
  let failed = false;
  try {
    const live: LiveHost[] = [];
    for (const host of fleet.hosts) {
      const agent = await startHostAgent(host);
      agents.push(agent);
      const direct = new AgentClient(() => openUnixSocket(host.agent.socket), "direct");
      await waitForAgent(host, agent, direct);
      const { connection, connectMs } = await connect(fleet, host);
      connections.push(connection);
      live.push({ host, connection, direct, connectMs });
    }
    return await use(live);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    for (const c of connections) c.stop();
    await Promise.all(agents.map((a) => stopHostAgent(a).catch(() => undefined)));
    try {
      await fleet.cleanup();
    } catch (e) {
      // Leftovers are a failure of their own, unless an earlier error is already on its way.
      if (!failed) throw e;
      console.error(`tunnel bench cleanup: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function usesDialStdio(connection: HostConnection): boolean {
  const link = connection.requireLink();
  return link instanceof SshLink && link.usesDialStdio;
}

function pair(times: Record<string, number[]>, tunnel: string, direct: string): PathPair {
  return { tunnel: stats(times[tunnel]!), direct: stats(times[direct]!) };
}

// ---------------------------------------------------------------- the bench

export async function benchTunnel(): Promise<TunnelBench> {
  if (process.getuid?.() !== 0) throw new Error("the tunnel bench needs root (network namespaces, sshd, the agent)");
  if (!existsSync(AGENT_BUNDLE)) throw new Error(`${AGENT_BUNDLE} is missing: run npm run build:agent`);

  const load = { average: os.loadavg()[0]!, cpus: os.availableParallelism() };
  const main = await withFleet(HOSTS, {}, async (hosts) => {
    const first = hosts[0]!;
    const tunnel = first.connection.client;
    const direct = first.direct;
    const pings = [await tunnel.ping(), await direct.ping()];
    if (pings.some((p) => p !== "OK")) throw new Error(`/_ping answered ${JSON.stringify(pings)}`);
    const listed = await tunnel.containers();
    if (!Array.isArray(listed) || (await direct.containers()).length !== listed.length) throw new Error("the two paths list different containers");
    // A first request over the tunnel has gone through: it must have used stream-local forwarding, not the fallback.
    if (usesDialStdio(first.connection)) throw new Error(`${first.host.name} fell back to dial-stdio although forwarding is allowed`);

    const single = await interleaved(SAMPLES, WARMUP, {
      tunnelPing: () => tunnel.ping(),
      directPing: () => direct.ping(),
      tunnelPs: () => tunnel.containers(),
      directPs: () => direct.containers(),
    });
    const fleetTimes = await interleaved(SAMPLES, WARMUP, {
      tunnel: () => Promise.all(hosts.map((h) => h.connection.client.containers())),
      direct: () => Promise.all(hosts.map((h) => h.direct.containers())),
    });
    if (hosts.some((h) => usesDialStdio(h.connection))) throw new Error("a connection fell back to dial-stdio during the run");
    return {
      containers: listed.length,
      connectMs: stats(hosts.map((h) => h.connectMs)).p50,
      ping: pair(single, "tunnelPing", "directPing"),
      ps: pair(single, "tunnelPs", "directPs"),
      fleet: pair(fleetTimes, "tunnel", "direct"),
    };
  });

  const dialStdio = await withFleet(1, { allowStreamLocalForwarding: false }, async ([h]) => {
    const { connection, direct } = h!;
    if ((await connection.client.ping()) !== "OK") throw new Error("/_ping over dial-stdio did not answer OK");
    if (!usesDialStdio(connection)) throw new Error("the connection did not fall back to dial-stdio although forwarding is refused");
    const times = await interleaved(DIAL_SAMPLES, DIAL_WARMUP, {
      tunnelPing: () => connection.client.ping(),
      directPing: () => direct.ping(),
      tunnelPs: () => connection.client.containers(),
      directPs: () => direct.containers(),
    });
    return { samples: DIAL_SAMPLES, ping: pair(times, "tunnelPing", "directPing"), ps: pair(times, "tunnelPs", "directPs") };
  });

  return { samples: SAMPLES, warmup: WARMUP, hosts: HOSTS, ...main, dialStdio, load };
}
