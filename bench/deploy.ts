// Deploy by form and the fleet-wide container list (issue "Console: deploy by form"):
//  1. containers.deploy as an Owner: the in-process tRPC caller, a real Fleet over real ssh2 to an
//     SSH test host running a real berth-agent, the image already on the host (pullPolicy
//     "missing"), `sleep 600` under a new name each time. Timed from the call until it returns (the
//     container started, the deployment saved, the audit event written); also until the fleet's
//     live state (fed by the agent's event stream) lists it running, which is when the list page
//     shows it. Target: median < 500 ms.
//  2. containers.all over 3 hosts × 200 running containers (made directly on each agent's unix
//     socket, `--network none`): page 1 by name, and a filtered variant sorted by creation time.
//     Target: < 300 ms server time.
// The hosts are added the way the console adds them (hosts.probe, hosts.add, hosts.installAgent),
// each agent trusting a local plain-HTTP registry that holds the tools image. The database is a
// throwaway embedded Postgres, migrated and seeded with the built-in roles.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { register } from "node:module";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { AgentClient as AgentClientType } from "../server/fleet/agent/client";
import type { Fleet as FleetType } from "../server/fleet/fleet";
import { startRegistry, type TestRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { agentSettingsFor, startSshHosts, type SshHostFleet, type SshTestHost } from "../test/fixtures/ssh-hosts";
import { buildToolsImage } from "../test/fixtures/test-images";
import { openUnixSocket, sleep, stats, type Stats } from "./support";

const HOSTS = 3;
const DEPLOY_RUNS = Number(process.env.BENCH_DEPLOY_RUNS ?? 20);
/** One untimed deploy per host first: the first container on a host sets up its bridge. */
const DEPLOY_WARMUP_PER_HOST = 1;
const PER_HOST = Number(process.env.BENCH_DEPLOY_CONTAINERS ?? 200);
const CREATE_CONCURRENCY = 4;
/** Per host, at teardown. */
const REMOVE_CONCURRENCY = 4;
const LIST_RUNS = Number(process.env.BENCH_DEPLOY_LIST_RUNS ?? 50);
const LIST_WARMUP = 5;

const AGENT_BUNDLE = path.resolve("dist/berth-agent.mjs");
const HOST_READY_MS = 60_000;
const LISTED_MS = 10_000;
const LIVE_STATE_MS = 120_000;
const POLL_MS = 200;

export const DEPLOY_TARGET_MS = 500;
export const LIST_TARGET_MS = 300;

export type { Stats };

export interface ListCase {
  label: string;
  stats: Stats;
  /** Rows matching the filter, and rows on the page returned. */
  total: number;
  returned: number;
}

export interface DeployBench {
  hosts: number;
  /** The machine's 1-minute load average when the bench started, and its CPUs. */
  load: { average: number; cpus: number };
  deploy: {
    runs: number;
    warmup: number;
    /** Call → return: started, saved, audited. */
    returned: Stats;
    /** Call → the fleet's live state lists it running. */
    listed: Stats;
  };
  list: {
    perHost: number;
    runs: number;
    /** Creating and starting all the containers on the agents' sockets. */
    createMs: number;
    /** From the last one started until the fleet's live state held them all running. */
    liveStateMs: number;
    /** The 1-minute load average when the list was timed. */
    load: number;
    cases: ListCase[];
  };
}

/** Runs `task` over `items`, at most `limit` at a time; rejects on the first failure. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Promise.all that waits for every promise to settle before rejecting with the first failure. */
async function allSettledOrThrow<T extends readonly unknown[]>(promises: [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Polls every 200 ms until `ok`, at most `timeoutMs`; returns the last value. */
async function waitFor<T>(check: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await check();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(POLL_MS);
    value = await check();
  }
  return value;
}


/**
 * The routers import "server-only", which throws outside Next's react-server condition (vitest
 * aliases it away). Here a resolve hook maps it to an empty module; the server modules are then
 * imported dynamically, after the hook is in place.
 */
let serverOnlyHooked = false;
function hookServerOnly(): void {
  if (serverOnlyHooked) return;
  serverOnlyHooked = true;
  const hook = `export async function resolve(specifier, context, next) {
    return specifier === "server-only" ? { url: "data:text/javascript,", shortCircuit: true } : next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

/** Resolves with performance.now() when the fleet's live state first lists `name` running on `hostId`. */
function whenListedRunning(fleet: FleetType, hostId: string, name: string, timeoutMs: number): { at: Promise<number>; cancel: () => void } {
  let cancel = () => {};
  const at = new Promise<number>((resolve, reject) => {
    const listed = () => fleet.snapshot(hostId).containers?.some((c) => c.Names[0] === `/${name}` && c.State === "running") ?? false;
    const onChange = (snap: { hostId: string }) => {
      if (snap.hostId === hostId && listed()) done(() => resolve(performance.now()));
    };
    const timer = setTimeout(() => done(() => reject(new Error(`${name} was not listed running on ${hostId} within ${timeoutMs / 1000} s`))), timeoutMs);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      fleet.off("change", onChange);
      settle();
    };
    cancel = () => done(() => resolve(Number.NaN));
    fleet.on("change", onChange);
  });
  return { at, cancel };
}

export async function benchDeploy(): Promise<DeployBench> {
  if (process.getuid?.() !== 0) throw new Error("the deploy bench needs root (network namespaces, sshd, the agent)");
  if (!existsSync(AGENT_BUNDLE)) throw new Error(`${AGENT_BUNDLE} is missing: run npm run build:agent`);
  const load = { average: os.loadavg()[0]!, cpus: os.availableParallelism() };

  hookServerOnly();
  const [{ startEmbeddedPostgres }, { migrate }, { createDb }, { seedBuiltInRoles }, { loadGrants }, { Fleet }, { SecretBox }, { AgentClient }, { appRouter }, { createCallerFactory }] =
    await Promise.all([
      import("../server/database/embedded"),
      import("../server/database/migrate"),
      import("../server/db"),
      import("../server/services/roles/seed-built-in-roles"),
      import("../server/auth/access"),
      import("../server/fleet/fleet"),
      import("../server/secrets/cipher"),
      import("../server/fleet/agent/client"),
      import("../server/routers/_app"),
      import("../server/trpc"),
    ]);

  const t0 = performance.now();
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-deploy-"));
  let pgDir: string | null = null;
  let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>> | null = null;
  let db: ReturnType<typeof createDb> | null = null;
  let hosts: SshHostFleet | null = null;
  let registry: TestRegistry | null = null;
  let fleet: FleetType | null = null;
  let direct: AgentClientType[] = [];
  let failed = false;
  try {
    // Database, hosts, registry and image at once: they don't depend on each other. All settle
    // before going on, so a failure in one leaves nothing still starting when the cleanup runs.
    const [database, sshHosts, reg, built] = await allSettledOrThrow([
      (async () => {
        // Its own temp dir: startEmbeddedPostgres opens that one to the postgres user, not its parents.
        pgDir = await mkdtemp(path.join(os.tmpdir(), "berth-bench-deploy-pg-"));
        pg = await startEmbeddedPostgres({ dataDir: pgDir });
        const url = pg.url();
        await migrate(url);
        db = createDb(url);
        await seedBuiltInRoles(db);
        return db;
      })(),
      startSshHosts(HOSTS).then((h) => (hosts = h)),
      startRegistry({ auth: "none", listenHost: "0.0.0.0" }).then((r) => (registry = r)),
      buildToolsImage(path.join(work, "tools")),
    ]);
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${reg.host}/test/tools:latest`);
    const image = (h: SshTestHost) => `${reg.hostFor(h.gatewayAddress)}/test/tools:latest`;

    // The fleet and an Owner's caller, as test/fixtures/fleet-env.ts builds them.
    const bundle = path.join(work, "berth-agent.mjs");
    await copyFile(AGENT_BUNDLE, bundle);
    const box = new SecretBox(randomBytes(32));
    const theFleet = new Fleet({ db: database, box, bundle });
    fleet = theFleet;
    await theFleet.start();
    const role = await database.role.findUniqueOrThrow({ where: { name: "Owner" } });
    const user = await database.user.create({ data: { email: `bench-owner-${randomBytes(3).toString("hex")}@example.test` } });
    await database.roleBinding.create({ data: { userId: user.id, roleId: role.id, scopeType: "global", scopeKey: "global" } });
    const owner = createCallerFactory(appRouter)({
      db: database,
      viewer: { user: { id: user.id, email: user.email, name: null }, sessionId: null, grants: await loadGrants(database, user.id) },
      meta: { requestId: randomBytes(8).toString("hex"), ip: "127.0.0.1", userAgent: "bench" },
      fleet: async () => ({ fleet: theFleet, box }),
    });

    // Hosts added as the console adds them; each agent trusts the registry at its gateway address.
    const ids: string[] = [];
    for (const [i, h] of sshHosts.hosts.entries()) {
      const auth = { method: "key" as const, privateKey: sshHosts.clientKey.privateKey };
      const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
      const added = await owner.hosts.add({
        name: `bench-${i}`,
        address: h.address,
        port: 22,
        username: "root",
        auth,
        fingerprint: probe.fingerprint,
        agent: agentSettingsFor(h, [reg.hostFor(h.gatewayAddress)]),
      });
      await owner.hosts.installAgent({ hostId: added.id });
      ids.push(added.id);
    }
    for (const id of ids) {
      const v = await waitFor(() => owner.hosts.get({ hostId: id }), (v) => v.status === "connected" && v.agent === "ok", HOST_READY_MS);
      if (v.status !== "connected" || v.agent !== "ok") throw new Error(`host ${id} is ${v.status}, agent ${v.agent}`);
    }
    await Promise.all(sshHosts.hosts.map((h, i) => theFleet.client(ids[i]!).pull(image(h), { timeoutMs: 60_000 })));
    console.log(`[bench] ${HOSTS} hosts connected, agents installed, image pulled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // ---------------------------------------------------------------- 1. deploy
    const returned: number[] = [];
    const listed: number[] = [];
    const deployed: { hostId: string; containerId: string }[] = [];
    const warmup = DEPLOY_WARMUP_PER_HOST * HOSTS;
    for (let i = 0; i < warmup + DEPLOY_RUNS; i++) {
      const k = i % HOSTS;
      const hostId = ids[k]!;
      const name = `bench-deploy-${i}-${randomBytes(3).toString("hex")}`;
      const seen = whenListedRunning(theFleet, hostId, name, LISTED_MS);
      const start = performance.now();
      let result: { containerId: string };
      try {
        result = await owner.containers.deploy({ hostId, spec: { image: image(sshHosts.hosts[k]!), name, command: ["sleep", "600"], pullPolicy: "missing" } });
      } catch (e) {
        seen.cancel();
        throw e;
      }
      const end = performance.now();
      const listedAt = await seen.at;
      deployed.push({ hostId, containerId: result.containerId });
      if (i >= warmup) {
        returned.push(end - start);
        listed.push(listedAt - start);
      }
    }
    const state = await theFleet.client(deployed[0]!.hostId).inspectContainer(deployed[0]!.containerId);
    if (!state.State.Running) throw new Error(`a deployed container is ${state.State.Status}, not running`);
    // Out of the way, so the list below holds exactly the containers made for it.
    await pool(deployed, CREATE_CONCURRENCY, ({ hostId, containerId }) => theFleet.client(hostId).removeContainer(containerId, { force: true }));
    await waitFor(() => ids.every((id) => (theFleet.snapshot(id).containers ?? []).length === 0), Boolean, LIVE_STATE_MS);

    // ---------------------------------------------------------------- 2. the list over 3 × 200
    direct = sshHosts.hosts.map((h) => new AgentClient(() => openUnixSocket(h.agent.socket), "direct"));
    const agents = direct;
    const jobs = Array.from({ length: PER_HOST }, (_, n) => sshHosts.hosts.map((h, k) => ({ k, n, image: image(h) }))).flat();
    const createStart = performance.now();
    await pool(jobs, CREATE_CONCURRENCY, async ({ k, n, image: img }) => {
      const created = await agents[k]!.createContainer({ Image: img, Cmd: ["sleep", "3600"], HostConfig: { NetworkMode: "none" } }, `c-${n}`, { timeoutMs: 60_000 });
      await agents[k]!.startContainer(created.Id, { timeoutMs: 60_000 });
    });
    const createEnd = performance.now();
    const complete = () => ids.every((id) => {
      const cs = theFleet.snapshot(id).containers ?? [];
      return cs.length === PER_HOST && cs.every((c) => c.State === "running");
    });
    if (!(await waitFor(complete, Boolean, LIVE_STATE_MS))) {
      throw new Error(`the fleet's live state holds ${ids.map((id) => theFleet.snapshot(id).containers?.length ?? 0).join(" + ")} containers, not ${HOSTS} × ${PER_HOST} running`);
    }
    const liveStateMs = performance.now() - createEnd;
    console.log(`[bench] ${HOSTS * PER_HOST} containers created and started in ${((createEnd - createStart) / 1000).toFixed(1)} s; live state complete ${(liveStateMs / 1000).toFixed(1)} s later`);

    const cases = [
      { label: "page 1 of 50, by name", input: { page: 1, pageSize: 50, sort: "name" as const } },
      { label: 'running, name~"c-1", newest', input: { state: "running" as const, name: "c-1", sort: "created" as const, order: "desc" as const } },
    ];
    const expected = [HOSTS * PER_HOST, HOSTS * Array.from({ length: PER_HOST }, (_, n) => `c-${n}`).filter((s) => s.includes("c-1")).length];
    const listLoad = os.loadavg()[0]!;
    const times: number[][] = cases.map(() => []);
    const shape: { total: number; returned: number }[] = [];
    // Alternated, so drift hits both.
    for (let round = 0; round < LIST_WARMUP + LIST_RUNS; round++) {
      for (const [c, { input }] of cases.entries()) {
        const start = performance.now();
        const page = await owner.containers.all(input);
        const ms = performance.now() - start;
        if (round >= LIST_WARMUP) times[c]!.push(ms);
        shape[c] = { total: page.total, returned: page.items.length };
      }
    }
    for (const [c, s] of shape.entries()) {
      if (s.total !== expected[c]) throw new Error(`"${cases[c]!.label}" matched ${s.total} containers, expected ${expected[c]}`);
    }

    return {
      hosts: HOSTS,
      load,
      deploy: { runs: DEPLOY_RUNS, warmup, returned: stats(returned), listed: stats(listed) },
      list: {
        perHost: PER_HOST,
        runs: LIST_RUNS,
        createMs: createEnd - createStart,
        liveStateMs,
        load: listLoad,
        cases: cases.map((c, i) => ({ label: c.label, stats: stats(times[i]!), ...shape[i]! })),
      },
    };
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    const teardownStart = performance.now();
    const steps: [string, () => Promise<unknown>][] = [
      ["fleet", async () => fleet?.stop()],
      // The fixture's teardown removes containers one by one (about 0.25 s each here); the live
      // agents remove them several at a time, which keeps the bench within its few minutes.
      ["containers", async () => {
        const start = performance.now();
        const removed = await Promise.all(
          direct.map(async (agent) => {
            const all = await agent.containers({ all: true, timeoutMs: 30_000 });
            await pool(all, REMOVE_CONCURRENCY, (c) => agent.removeContainer(c.Id, { force: true, timeoutMs: 60_000 }));
            return all.length;
          }),
        );
        const n = removed.reduce((a, b) => a + b, 0);
        if (n > 0) console.log(`[bench] ${n} containers removed in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      }],
      // Tears down each host's agent (its containers with it), then the hosts.
      ["hosts", async () => hosts?.cleanup()],
      ["registry", async () => registry?.stop()],
      ["database", async () => {
        await (db as ReturnType<typeof createDb> | null)?.$disconnect();
        await (pg as Awaited<ReturnType<typeof startEmbeddedPostgres>> | null)?.stop();
      }],
      ["temp dirs", async () => {
        await rm(work, { recursive: true, force: true });
        if (pgDir) await rm(pgDir, { recursive: true, force: true });
      }],
    ];
    const problems: string[] = [];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (e) {
        problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    console.log(`[bench] torn down in ${((performance.now() - teardownStart) / 1000).toFixed(1)} s`);
    if (problems.length > 0) {
      // Leftovers are a failure of their own, unless an earlier error is already on its way.
      if (!failed) throw new Error(`deploy bench cleanup: ${problems.join("; ")}`);
      console.error(`deploy bench cleanup: ${problems.join("; ")}`);
    }
  }
}
