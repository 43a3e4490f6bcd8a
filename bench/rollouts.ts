// Rollouts (issue 19): the service gap while a deployment is rolled out, on an SSH test host
// (a real Fleet over ssh2 to a real berth-agent; the update is containers.update as an Owner,
// i.e. requestRollout → the queue's worker → the deployment rollout).
//  (a) stop-then-start: busybox httpd behind a fixed published host port (it exits on SIGTERM),
//      a bounded loop of HTTP requests (each on a new connection) every 20 ms from the bench to the host's address; the
//      longest run of failed requests (from the first failing request to the next answered one).
//      Target < 1 s.
//  (b) start-first: the same server reached by a network alias ("api") from another container on
//      a user-defined network, the client a bounded busybox loop of nc GETs every 20 ms inside it;
//      failed requests. Target: 0.
// Each case is rolled out ROUNDS times (a new image each time: the tag moves between two builds).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { register } from "node:module";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startRegistry, type TestRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { agentSettingsFor, startSshHosts, type SshHostFleet } from "../test/fixtures/ssh-hosts";
import { buildToolsImage } from "../test/fixtures/test-images";
import { median, sleep } from "./support";

export const GAP_TARGET_MS = 1_000;
export const ALIAS_FAILURES_TARGET = 0;
const ROUNDS = Number(process.env.BENCH_ROLLOUT_ROUNDS ?? 5);
const INTERVAL_MS = 20;
/** The request loop's bound: 60 s of requests at most per round. */
const MAX_REQUESTS = 3_000;
const REQUEST_TIMEOUT_MS = 1_000;
const AGENT_BUNDLE = path.resolve("dist/berth-agent.mjs");
const FIXED_PORT = 18_097;

export interface RolloutsBench {
  rounds: number;
  /** kinds: how the failed requests failed (ECONNREFUSED at once, "timed out" after the 1 s request timeout). */
  stopFirst: { gapsMs: number[]; worstMs: number; medianMs: number; requests: number; failed: number; kinds: Record<string, number>; rolloutMs: number };
  /** kinds: busybox nc's messages. */
  startFirst: { failedPerRound: number[]; failed: number; requests: number; kinds: Record<string, number>; rolloutMs: number };
}

function hookServerOnly(): void {
  const hook = `export async function resolve(specifier, context, next) {
    return specifier === "server-only" ? { url: "data:text/javascript,", shortCircuit: true } : next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

/** httpd serving `text`, stopping on SIGTERM (sh as PID 1 with a trap, as an app that shuts down cleanly). */
const serve = (text: string) => ["sh", "-c", `mkdir -p /www && echo ${text} > /www/index.html && httpd -f -p 80 -h /www & pid=$!; trap 'kill $pid; exit 0' TERM; wait`];

/**
 * One GET on a new connection (as many clients each making one request; a kept-alive connection
 * to the stopped container would hang until its timeout instead), answered with the page.
 */
function get(url: string): Promise<true | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(res.statusCode === 200 && body.startsWith("app-") ? true : `HTTP ${res.statusCode}`));
      res.on("error", (e) => resolve(e.message));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Requests every 20 ms until `done` (bounded by MAX_REQUESTS); the longest run of failures in ms. */
async function probeLoop(url: string, done: () => boolean, kinds: Record<string, number>): Promise<{ requests: number; failed: number; longestGapMs: number }> {
  let requests = 0;
  let failed = 0;
  let longest = 0;
  let failingSince: number | null = null;
  while (!done() && requests < MAX_REQUESTS) {
    const at = performance.now();
    const answer = await get(url);
    const ok = answer === true;
    requests++;
    if (!ok) kinds[answer] = (kinds[answer] ?? 0) + 1;
    if (!ok) {
      failed++;
      failingSince ??= at;
    } else if (failingSince !== null) {
      longest = Math.max(longest, at - failingSince);
      failingSince = null;
    }
    await sleep(Math.max(0, INTERVAL_MS - (performance.now() - at)));
  }
  if (failingSince !== null) longest = Math.max(longest, performance.now() - failingSince);
  return { requests, failed, longestGapMs: longest };
}

export async function benchRollouts(): Promise<RolloutsBench> {
  if (process.getuid?.() !== 0) throw new Error("the rollouts bench needs root (network namespaces, sshd, the agent)");
  if (!existsSync(AGENT_BUNDLE)) throw new Error(`${AGENT_BUNDLE} is missing: run npm run build:agent`);
  hookServerOnly();
  // The gate: a container without a health check counts as started after running this long.
  process.env.BERTH_ROLLOUT_SETTLE_SECONDS ??= "1";
  const [{ startEmbeddedPostgres }, { migrate }, { createDb }, { seedBuiltInRoles }, { loadGrants }, { Fleet }, { SecretBox }, { appRouter }, { createCallerFactory }, { stopRolloutWorker }] =
    await Promise.all([
      import("../server/database/embedded"),
      import("../server/database/migrate"),
      import("../server/db"),
      import("../server/services/roles/seed-built-in-roles"),
      import("../server/auth/access"),
      import("../server/fleet/fleet"),
      import("../server/secrets/cipher"),
      import("../server/routers/_app"),
      import("../server/trpc"),
      import("../server/rollouts/worker"),
    ]);
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-rollouts-"));
  const pgDir = await mkdtemp(path.join(os.tmpdir(), "berth-bench-rollouts-pg-"));
  let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>> | null = null;
  let db: ReturnType<typeof createDb> | null = null;
  let hosts: SshHostFleet | null = null;
  let registry: TestRegistry | null = null;
  let fleet: InstanceType<typeof Fleet> | null = null;
  try {
    pg = await startEmbeddedPostgres({ dataDir: pgDir });
    await migrate(pg.url());
    const database = createDb(pg.url());
    db = database;
    await seedBuiltInRoles(database);
    hosts = await startSshHosts(1, { networkPoolPrefix: 23 });
    const reg = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    registry = reg;
    const h = hosts.hosts[0]!;
    const builds = [await buildToolsImage(path.join(work, "a"), { labels: { v: "a" }, cmd: serve("app-a") }), await buildToolsImage(path.join(work, "b"), { labels: { v: "b" }, cmd: serve("app-b") })];
    const push = (i: number) => skopeoCopy(`oci:${builds[i % 2]!.layoutDir}:${builds[i % 2]!.tag}`, `docker://${reg.host}/bench/app:live`);
    await push(0);
    const image = `${reg.hostFor(h.gatewayAddress)}/bench/app:live`;

    const bundle = path.join(work, "berth-agent.mjs");
    await copyFile(AGENT_BUNDLE, bundle);
    const box = new SecretBox(randomBytes(32));
    const theFleet = new Fleet({ db: database, box, bundle });
    fleet = theFleet;
    await theFleet.start();
    const role = await database.role.findUniqueOrThrow({ where: { name: "Owner" } });
    const user = await database.user.create({ data: { email: `bench-rollouts-${randomBytes(3).toString("hex")}@example.test` } });
    await database.roleBinding.create({ data: { userId: user.id, roleId: role.id, scopeType: "global", scopeKey: "global" } });
    const owner = createCallerFactory(appRouter)({
      db: database,
      viewer: { user: { id: user.id, email: user.email, name: null }, sessionId: null, grants: await loadGrants(database, user.id) },
      meta: { requestId: randomBytes(8).toString("hex"), ip: "127.0.0.1", userAgent: "bench" },
      fleet: async () => ({ fleet: theFleet, box }),
    });
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
    const added = await owner.hosts.add({ name: "bench-rollouts", address: h.address, port: 22, username: "root", auth, fingerprint: probe.fingerprint, agent: agentSettingsFor(h, [reg.hostFor(h.gatewayAddress)]) });
    await owner.hosts.installAgent({ hostId: added.id });
    for (let i = 0; i < 300 && (await owner.hosts.get({ hostId: added.id })).agent !== "ok"; i++) await sleep(200);
    const hostId = added.id;
    const client = theFleet.client(hostId);

    // ---------------------------------------------------------------- (a) stop-first, fixed port
    const fixed = await owner.containers.deploy({ hostId, spec: { image, name: "gap-fixed", ports: [{ hostPort: FIXED_PORT, containerPort: 80, protocol: "tcp" }] } });
    const url = `http://${h.address}:${FIXED_PORT}/`;
    for (let i = 0; i < 100 && !(await fetch(url).then((r) => r.ok).catch(() => false)); i++) await sleep(100);
    const gaps: number[] = [];
    const kinds: Record<string, number> = {};
    let requests = 0;
    let failed = 0;
    const stopFirstMs: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await push(round);
      let finished = false;
      let finishedAt = 0;
      const t = performance.now();
      const update = owner.containers.update({ hostId, deploymentId: fixed.deploymentId }).finally(() => {
        finished = true;
        finishedAt = performance.now();
      });
      // Until a second after the rollout returned: a gap right at its end counts too.
      const loop = probeLoop(url, () => finished && performance.now() - finishedAt > 1_000, kinds);
      const [result, probed] = await Promise.all([update, loop]);
      if (result.status !== "succeeded" || result.strategy !== "stop-first") throw new Error(`stop-first rollout ${round}: ${result.status} ${result.strategy} ${result.message ?? ""}`);
      stopFirstMs.push(finishedAt - t);
      gaps.push(probed.longestGapMs);
      requests += probed.requests;
      failed += probed.failed;
    }

    // ---------------------------------------------------------------- (b) start-first, network alias
    await client.createNetwork({ Name: "bench-rollouts", Driver: "bridge" });
    const aliased = await owner.containers.deploy({ hostId, spec: { image, name: "gap-alias", network: "bench-rollouts", aliases: ["api"] } });
    const perRound: number[] = [];
    const aliasKinds: Record<string, number> = {};
    let aliasRequests = 0;
    const startFirstMs: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await push(round + 1);
      // The client: a bounded loop inside a container on the same network, one line per request.
      // busybox nc, not wget (Debian's busybox-static wget segfaults); it resolves "api" as any libc client does.
      const loop = `i=0; while [ $i -lt ${MAX_REQUESTS} ]; do r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 1 api 80 2>&1 | tail -1); case "$r" in app-*) echo ok;; *) echo "FAIL $r" | head -c 200; echo;; esac; sleep 0.02; i=$((i+1)); done`;
      const probeName = `gap-client-${round}`;
      const created = await client.createContainer({ Image: image, Cmd: ["sh", "-c", loop], HostConfig: { NetworkMode: "bench-rollouts" } }, probeName, { timeoutMs: 30_000 });
      await client.startContainer(created.Id, { timeoutMs: 30_000 });
      const lines = async () => {
        const out: string[] = [];
        for await (const f of client.logs(created.Id, { timeoutMs: 30_000 })) out.push(f.text);
        return out.join("").split("\n").filter(Boolean);
      };
      for (let i = 0; i < 100 && !(await lines()).includes("ok"); i++) await sleep(100);
      const t = performance.now();
      const result = await owner.containers.update({ hostId, deploymentId: aliased.deploymentId });
      startFirstMs.push(performance.now() - t);
      if (result.status !== "succeeded" || result.strategy !== "start-first") throw new Error(`start-first rollout ${round}: ${result.status} ${result.strategy} ${result.message ?? ""}`);
      await sleep(1_000);
      await client.killContainer(created.Id).catch(() => undefined);
      const seen = await lines();
      await client.removeContainer(created.Id, { force: true });
      const failures = seen.filter((l) => l.startsWith("FAIL"));
      if (!seen.includes("ok")) throw new Error(`start-first round ${round}: the client never reached api: ${JSON.stringify(seen.slice(0, 5))}`);
      for (const f of failures) aliasKinds[f.slice(5).trim() || "no answer"] = (aliasKinds[f.slice(5).trim() || "no answer"] ?? 0) + 1;
      perRound.push(failures.length);
      aliasRequests += seen.length;
    }
    return {
      rounds: ROUNDS,
      stopFirst: { gapsMs: gaps, worstMs: Math.max(...gaps), medianMs: median(gaps), requests, failed, kinds, rolloutMs: median(stopFirstMs) },
      startFirst: { failedPerRound: perRound, failed: perRound.reduce((a, b) => a + b, 0), requests: aliasRequests, kinds: aliasKinds, rolloutMs: median(startFirstMs) },
    };
  } finally {
    const problems: string[] = [];
    for (const [what, step] of [
      ["worker", async () => stopRolloutWorker()],
      ["fleet", async () => fleet?.stop()],
      ["hosts", async () => hosts?.cleanup()],
      ["registry", async () => registry?.stop()],
      ["database", async () => {
        await db?.$disconnect();
        await pg?.stop();
      }],
      ["temp dirs", async () => {
        await rm(work, { recursive: true, force: true });
        await rm(pgDir, { recursive: true, force: true });
      }],
    ] as [string, () => Promise<unknown>][]) {
      try {
        await step();
      } catch (e) {
        problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (problems.length) console.error(`rollouts bench cleanup: ${problems.join("; ")}`);
  }
}
