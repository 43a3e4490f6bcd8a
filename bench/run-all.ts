// npm run bench — every benchmark, printed as a table. Peers are measured in the same run where one exists.
// BENCH_ONLY=pull|containers|network|build|compose|audit|tunnel|deploy|proxy|rest|stacks|rollouts|webhook|alert|metrics runs one of them.
import { ALERT_TARGET_MS, benchAlertLatency } from "./alert-latency";
import { benchAuditSearch } from "./audit-search";
import { benchBuild } from "./build";
import { benchCompose } from "./compose";
import { benchContainers } from "./containers";
import { benchDeploy, DEPLOY_TARGET_MS, LIST_TARGET_MS } from "./deploy";
import { benchMetrics, METRICS_TARGET_MS } from "./metrics";
import { benchNetwork } from "./network";
import { benchProxy } from "./proxy";
import { benchPull } from "./pull";
import { benchRestDeploy } from "./rest-deploy";
import { ALIAS_FAILURES_TARGET, benchRollouts, GAP_TARGET_MS } from "./rollouts";
import { benchStacks, STACK_FIRST_TARGET_MS, STACK_REAPPLY_TARGET_MS } from "./stacks";
import { benchTunnel, type PathPair } from "./tunnel";
import { benchWebhookRollout, WEBHOOK_TARGET_MS } from "./webhook-rollout";

const only = process.env.BENCH_ONLY;

if (!only || only === "pull") {
  const pull = await benchPull();
  console.log(`\ncold pull of a ~70 MB, 3-layer image from a local registry (median of ${pull.runs} runs each)`);
  console.log(`  berth-agent pull                       ${pull.agentMs.toFixed(0).padStart(6)} ms   (download + verify + unpack into overlay snapshots)`);
  console.log(`  skopeo copy to containers-storage      ${pull.skopeoStorageMs.toFixed(0).padStart(6)} ms   (download + verify + unpack into overlay layers)`);
  console.log(`  skopeo copy to an OCI directory        ${pull.skopeoLayoutMs.toFixed(0).padStart(6)} ms   (download + verify only)`);
  console.log(`  agent / skopeo, containers-storage     ${pull.ratio.toFixed(2).padStart(6)}      (target ≤ 1.00: the same work)`);
  console.log(`  agent / skopeo, OCI directory          ${pull.layoutRatio.toFixed(2).padStart(6)}      (for reference: skopeo neither unpacks nor writes twice)`);
}

if (!only || only === "containers") {
  const c = await benchContainers();
  const ratio = (a: number, b: number) => (a / b).toFixed(2).padStart(6);
  console.log(`\nrun --rm IMG echo hi (median of ${c.runs} runs each)`);
  console.log(`  berth-agent API      ${c.apiRunMs.toFixed(0).padStart(6)} ms   (create → attach → wait → start, as docker run does)`);
  console.log(`  bare runc run        ${c.runcFloorMs.toFixed(0).padStart(6)} ms   (prepared bundle: the floor)`);
  console.log(`  runc create+start+delete ${c.runcSplitMs.toFixed(0).padStart(2)} ms   (the same bundle in three runc processes, as any conmon-based engine runs it)`);
  if (c.podmanRunMs !== null) console.log(`  podman run --rm      ${c.podmanRunMs.toFixed(0).padStart(6)} ms   (runtime runc, --network none)`);
  console.log(`  agent / floor        ${ratio(c.apiRunMs, c.runcFloorMs)}      (target ≤ 2.00)`);
  if (c.podmanRunMs !== null) console.log(`  podman / agent       ${ratio(c.podmanRunMs, c.apiRunMs)}      (target ≥ 3.00)`);
  console.log(`\nps with ${c.psContainers} running containers: ${c.psMs.toFixed(1)} ms median of 20 (target < 20 ms)`);
  const mib = (k: number | null) => (k === null ? "n/a" : `${(k / 1024).toFixed(2)} MiB`);
  console.log(`idle container memory, conmon + process, median of 10 (target: agent ≤ podman):`);
  console.log(`  RSS  agent ${mib(c.agentIdleKiB)}, podman ${mib(c.podmanIdleKiB)}   (busybox's mapped text varies with what the page cache holds)`);
  console.log(`  PSS  agent ${mib(c.agentIdlePssKiB)}, podman ${mib(c.podmanIdlePssKiB)}`);
  const parts = (p: { conmonKiB: number; processKiB: number } | null) => (p ? `conmon ${mib(p.conmonKiB)} + process ${mib(p.processKiB)}` : "n/a");
  console.log(`  RSS split: agent ${parts(c.agentIdleParts)}; podman ${parts(c.podmanIdleParts)}`);
}

if (!only || only === "network") {
  const n = await benchNetwork();
  console.log(`\nrun --rm IMG echo hi on a bridge network (median of ${n.runs} runs each)`);
  console.log(`  berth-agent API, default bridge   ${n.agentBridgeRunMs.toFixed(0).padStart(6)} ms`);
  if (n.podmanBridgeRunMs !== null) {
    console.log(`  podman run --rm, podman bridge    ${n.podmanBridgeRunMs.toFixed(0).padStart(6)} ms`);
    console.log(`  podman / agent                    ${(n.podmanBridgeRunMs / n.agentBridgeRunMs).toFixed(2).padStart(6)}      (target ≥ 2.00)`);
  }
  console.log(`throughput, wrk -c4, ${process.env.BENCH_WRK_ROUNDS ?? 5} alternating rounds of ${process.env.BENCH_WRK_SECONDS ?? 3}s against busybox httpd (1 KiB page), medians:`);
  console.log(`  published port via 127.0.0.1          ${n.publishedRps.toFixed(0).padStart(8)} req/s   ${((n.publishedRps / n.directRps) * 100).toFixed(1).padStart(6)} % of direct`);
  if (n.publishedHostRps !== null) console.log(`  published port via ${(n.hostAddress ?? "").padEnd(19)}${n.publishedHostRps.toFixed(0).padStart(8)} req/s   ${((n.publishedHostRps / n.directRps) * 100).toFixed(1).padStart(6)} % of direct`);
  console.log(`  direct to the container address       ${n.directRps.toFixed(0).padStart(8)} req/s   (target: published ≥ 90 % of direct)`);
}

if (!only || only === "build") {
  const b = await benchBuild();
  console.log(`\n3-step build (FROM, RUN, COPY 10 MB) through docker build (legacy builder), median of ${b.runs} runs each`);
  console.log(`  berth-agent  cold ${b.agentColdMs.toFixed(0).padStart(6)} ms   cached ${b.agentCachedMs.toFixed(0).padStart(6)} ms`);
  if (b.podmanColdMs !== null && b.podmanCachedMs !== null) {
    console.log(`  podman build cold ${b.podmanColdMs.toFixed(0).padStart(6)} ms   cached ${b.podmanCachedMs.toFixed(0).padStart(6)} ms`);
    console.log(`  ratio        cold ${(b.agentColdMs / b.podmanColdMs).toFixed(2).padStart(6)}      cached ${(b.agentCachedMs / b.podmanCachedMs).toFixed(2).padStart(6)}   (targets ≤ 1.00 and ≤ 0.50)`);
  }
}

if (!only || only === "compose") {
  const c = await benchCompose();
  const ms = (v: number | null) => (v === null ? "   n/a" : v.toFixed(0).padStart(6));
  console.log(`\ndocker-compose 1.29, ${c.services}-service file (image present), up -d until every service runs, then down -v (median of ${c.runs} runs each)`);
  console.log(`  berth-agent           up ${ms(c.agentUpMs)} ms   down ${ms(c.agentDownMs)} ms`);
  console.log(`  podman system service up ${ms(c.podmanUpMs)} ms   down ${ms(c.podmanDownMs)} ms`);
  console.log(`  agent / podman, up + down  ${c.ratio === null ? "n/a (no podman)" : c.ratio.toFixed(2)}   (target ≤ 0.50)`);
  console.log(`  health-gated chain (each service waits for the previous one healthy; 1 s interval), agent only:`);
  console.log(`  berth-agent           up ${ms(c.agentHealthyUpMs)} ms   down ${ms(c.agentHealthyDownMs)} ms   (podman: its checks need systemd timers, none here)`);
}

if (!only || only === "audit") {
  const audit = await benchAuditSearch();
  console.log(`\naudit search over ${process.env.BENCH_AUDIT_EVENTS ?? "1000000"} events (30 runs each; target p95 < 100 ms)`);
  console.log("query".padEnd(24), "p50 ms".padStart(8), "p95 ms".padStart(8));
  for (const r of audit) console.log(r.name.padEnd(24), r.p50.toFixed(1).padStart(8), r.p95.toFixed(1).padStart(8));
}

if (!only || only === "tunnel") {
  const t = await benchTunnel();
  const cols = (xs: (string | number)[]) => xs.map((x) => (typeof x === "number" ? x.toFixed(2) : x).padStart(9)).join("");
  const header = () => console.log(`  ${"".padEnd(24)}${cols(["tunnel", "", "direct", "", "overhead", "", "ratio"])}\n  ${"".padEnd(24)}${cols(["p50", "p95", "p50", "p95", "p50", "p95", "p50"])}`);
  const row = (label: string, p: PathPair) =>
    console.log(`  ${label.padEnd(24)}${cols([p.tunnel.p50, p.tunnel.p95, p.direct.p50, p.direct.p95, p.tunnel.p50 - p.direct.p50, p.tunnel.p95 - p.direct.p95, p.tunnel.p50 / p.direct.p50])}`);
  console.log(`\nagent calls over the SSH tunnel (direct-streamlocal, one channel per call) vs its unix socket (one connection per call); load ${t.load.average.toFixed(1)} on ${t.load.cpus} CPUs`);
  console.log(`${t.samples} samples each after ${t.warmup} warm-up calls, paths alternated, ${t.containers} containers per agent; ms (overhead = tunnel − direct; ratio tunnel/direct)`);
  header();
  row("GET /_ping", t.ping);
  row("GET /containers/json", t.ps);
  row(`fleet refresh, ${t.hosts} hosts`, t.fleet);
  console.log(`  target: overhead < 2 ms per call once connected   (SSH connect + auth: ${t.connectMs.toFixed(0)} ms, median of ${t.hosts} hosts)`);
  console.log(`dial-stdio fallback (sshd forbids stream-local forwarding; node starts on the host per call), 1 host, ${t.dialStdio.samples} samples each`);
  header();
  row("GET /_ping", t.dialStdio.ping);
  row("GET /containers/json", t.dialStdio.ps);
}

if (!only || only === "deploy") {
  const d = await benchDeploy();
  const ms = (x: number) => x.toFixed(1).padStart(9);
  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  console.log(`\ndeploy by form: containers.deploy as an Owner (in-process tRPC caller, Fleet over ssh2 to a real agent); load ${d.load.average.toFixed(1)} on ${d.load.cpus} CPUs`);
  console.log(`image present (pullPolicy missing), sleep 600, new name each time; ${d.deploy.runs} runs after ${d.deploy.warmup} warm-ups, round-robin over ${d.hosts} hosts; ms`);
  console.log(`  ${"".padEnd(40)}${"p50".padStart(9)}${"p95".padStart(9)}`);
  console.log(`  ${"submit → returned (started, saved)".padEnd(40)}${ms(d.deploy.returned.p50)}${ms(d.deploy.returned.p95)}   target: median < ${DEPLOY_TARGET_MS} ms   ${met(d.deploy.returned.p50 < DEPLOY_TARGET_MS)}`);
  console.log(`  ${"submit → listed running (live state)".padEnd(40)}${ms(d.deploy.listed.p50)}${ms(d.deploy.listed.p95)}`);
  console.log(`container list, containers.all over ${d.hosts} hosts × ${d.list.perHost} running containers (created in ${(d.list.createMs / 1000).toFixed(1)} s; live state complete ${(d.list.liveStateMs / 1000).toFixed(1)} s later); load ${d.list.load.toFixed(1)}`);
  console.log(`${d.list.runs} calls each, alternated; server time in ms`);
  console.log(`  ${"".padEnd(40)}${"p50".padStart(9)}${"p95".padStart(9)}${"matched".padStart(9)}${"rows".padStart(6)}`);
  for (const c of d.list.cases) {
    console.log(`  ${c.label.padEnd(40)}${ms(c.stats.p50)}${ms(c.stats.p95)}${String(c.total).padStart(9)}${String(c.returned).padStart(6)}   target: < ${LIST_TARGET_MS} ms   ${met(c.stats.p95 < LIST_TARGET_MS)}`);
  }
}
if (!only || only === "proxy") {
  const p = await benchProxy();
  const ms = (x: number) => x.toFixed(2).padStart(9);
  console.log(`\nDocker-API proxy: GET /containers/json through the gateway (/api/docker/<host>, token auth, SSH channel) vs the agent's unix socket; load ${p.load.average.toFixed(1)} on ${p.load.cpus} CPUs`);
  console.log(`${p.samples} samples each after ${p.warmup} warm-ups, alternated, ${p.containers} containers; ms`);
  console.log(`  ${"".padEnd(28)}${"p50".padStart(9)}${"p95".padStart(9)}`);
  console.log(`  ${"through the proxy".padEnd(28)}${ms(p.proxy.p50)}${ms(p.proxy.p95)}`);
  console.log(`  ${"agent socket directly".padEnd(28)}${ms(p.direct.p50)}${ms(p.direct.p95)}`);
  console.log(`  ${"added by the proxy".padEnd(28)}${ms(p.added.p50)}${ms(p.added.p95)}   target: median < 5 ms   ${p.targetMet ? "met" : "NOT met"}`);
  console.log(`  ${"of which token auth".padEnd(28)}${ms(p.auth.p50)}${ms(p.auth.p95)}`);
}

if (!only || only === "rest") {
  const r = await benchRestDeploy();
  console.log(`\nREST deploy throughput: ${r.clients} concurrent clients (a token each), POST /api/v1/hosts/{id}/containers to one SSH host; load ${r.load.average.toFixed(1)} on ${r.load.cpus} CPUs`);
  console.log(`  ${r.deploys} deploys after ${r.warmup} warm-ups in ${(r.wallMs / 1000).toFixed(1)} s: ${r.deploysPerSecond.toFixed(1)} deploys/s; latency per deploy p50 ${r.latency.p50.toFixed(0)} ms, p95 ${r.latency.p95.toFixed(0)} ms`);
}
if (!only || only === "webhook") {
  const w = await benchWebhookRollout();
  console.log(`\nwebhook → new container healthy and serving: POST /api/hooks/<secret>?wait=true naming the other image, ${w.runs} runs on one SSH host; load ${w.load.average.toFixed(1)} on ${w.load.cpus} CPUs`);
  console.log(`  call sent → page served by the new container   p50 ${w.latency.p50.toFixed(0).padStart(5)} ms   p95 ${w.latency.p95.toFixed(0).padStart(5)} ms   target p50 < ${WEBHOOK_TARGET_MS} ms   ${w.latency.p50 < WEBHOOK_TARGET_MS ? "met" : "NOT met"}`);
  console.log(`  of which the webhook's answer (rollout done)    p50 ${w.answer.p50.toFixed(0).padStart(5)} ms   p95 ${w.answer.p95.toFixed(0).padStart(5)} ms`);
}
if (!only || only === "alert") {
  const a = await benchAlertLatency();
  console.log(`\nalert latency: container OOM-killed → webhook received (rule forSeconds 0), ${a.runs} runs on one SSH host; load ${a.load.average.toFixed(1)} on ${a.load.cpus} CPUs`);
  console.log(`  died (FinishedAt) → message at the receiver   p50 ${a.latency.p50.toFixed(0).padStart(5)} ms   p95 ${a.latency.p95.toFixed(0).padStart(5)} ms   target p95 < ${ALERT_TARGET_MS} ms   ${a.latency.p95 < ALERT_TARGET_MS ? "met" : "NOT met"}`);
}
if (!only || only === "stacks") {
  const s = await benchStacks();
  const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  console.log(`\nstacks: a ${s.services}-service stack (one health-gated dependency, images present) on an SSH test host; median of ${s.runs} runs`);
  console.log(`  berth stacks.up, first apply → running/healthy   ${ms(s.berth.firstMs)}   target < ${STACK_FIRST_TARGET_MS} ms   ${met(s.berth.firstMs < STACK_FIRST_TARGET_MS)}`);
  console.log(`  berth stacks.up, one service changed             ${ms(s.berth.reapplyMs)}   target < ${STACK_REAPPLY_TARGET_MS} ms   ${met(s.berth.reapplyMs < STACK_REAPPLY_TARGET_MS)}   (${s.berth.recreated} recreated)`);
  if (s.compose) {
    console.log(`  docker-compose 1.29 up -d, first (agent socket)  ${ms(s.compose.firstMs)}   berth / compose ${(s.berth.firstMs / s.compose.firstMs).toFixed(2)}`);
    if (s.compose.reapplyMs !== null) console.log(`  docker-compose 1.29 up -d, one changed           ${ms(s.compose.reapplyMs)}   berth / compose ${(s.berth.reapplyMs / s.compose.reapplyMs).toFixed(2)}`);
    else console.log(`  docker-compose 1.29 up -d, one changed           failed: ${s.compose.reapplyError}`);
  }
}
if (!only || only === "rollouts") {
  const r = await benchRollouts();
  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  console.log(`\nrollouts of a deployment (containers.update → queue → health-gated rollout, a new image each time) on an SSH test host; ${r.rounds} rounds each`);
  console.log(`  stop-then-start, fixed host port, requests every 20 ms: longest failed run ${r.stopFirst.worstMs.toFixed(0)} ms worst, ${r.stopFirst.medianMs.toFixed(0)} ms median   target < ${GAP_TARGET_MS} ms   ${met(r.stopFirst.worstMs < GAP_TARGET_MS)}   (${r.stopFirst.failed}/${r.stopFirst.requests} failed: ${JSON.stringify(r.stopFirst.kinds)}; 1 s request timeout; rollout ${r.stopFirst.rolloutMs.toFixed(0)} ms median)`);
  console.log(`  start-first, reached by network alias from another container, a GET every 20 ms: ${r.startFirst.failed} failed of ${r.startFirst.requests}   target ${ALIAS_FAILURES_TARGET}   ${met(r.startFirst.failed <= ALIAS_FAILURES_TARGET)}   (per round ${r.startFirst.failedPerRound.join(", ")}: ${JSON.stringify(r.startFirst.kinds)}; rollout ${r.startFirst.rolloutMs.toFixed(0)} ms median)`);
}
if (!only || only === "metrics") {
  const m = await benchMetrics();
  const ms = (x: number) => x.toFixed(1).padStart(7);
  console.log(`\nGET /metrics rendering, ${m.hosts} hosts × ${m.perHost} containers (synthetic snapshots and samples in-process; ${m.lines} samples, ${(m.bytes / 1024).toFixed(0)} KiB); load ${m.load.average.toFixed(1)} on ${m.load.cpus} CPUs`);
  console.log(`  ${m.runs} scrapes after ${m.warmup} warm-ups, wall clock: p50 ${ms(m.render.p50)} ms   p95 ${ms(m.render.p95)} ms   target: server time < ${METRICS_TARGET_MS} ms   ${m.render.p95 < METRICS_TARGET_MS ? "met" : "NOT met"}`);
  console.log(`  the same scrapes, CPU time:          p50 ${ms(m.cpu.p50)} ms   p95 ${ms(m.cpu.p95)} ms   (what a scrape costs when the CPUs aren't shared)`);
}
process.exit(0);
