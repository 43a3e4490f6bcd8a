// Container benchmarks against the peers, in the same run (issue "Agent, part 2"):
//  1. `run --rm IMG echo hi` through our Docker API (create → attach → wait → start,
//     as the docker CLI does) vs bare `runc run` of a prepared bundle with the agent's
//     own OCI config (the floor: runc's cost for the same security profile)
//     vs `podman run --rm --network none` (runtime runc, nofile/nproc 1024).
//     Targets: ≤ 2× the floor, ≥ 3× faster than podman.
//  2. GET /containers/json with 200 running containers. Target: < 20 ms.
//  3. Memory per idle container, conmon + the container's process (RSS), vs podman's.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startDockerAgent, type DockerAgent } from "../test/fixtures/docker-agent";
import { startRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { buildToolsImage } from "../test/fixtures/test-images";
import { api, apiRun, median, podmanPeer, sh, sleep, timeChild, timeDetached } from "./support";

const RUNS = Number(process.env.BENCH_RUN_RUNS ?? 20);
const PS_CONTAINERS = Number(process.env.BENCH_PS_CONTAINERS ?? 200);

function pssKiB(pid: number): number {
  const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
  return m ? Number(m[1]) : 0;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

export interface ContainerBench {
  runs: number;
  apiRunMs: number;
  runcFloorMs: number;
  /** runc create + start + delete of the same bundle (the exit wait in between not counted). */
  runcSplitMs: number;
  podmanRunMs: number | null;
  psContainers: number;
  psMs: number;
  agentIdleKiB: number;
  podmanIdleKiB: number | null;
  /** PSS: shared pages (busybox's text, conmon's libraries) divided among the processes sharing them. */
  agentIdlePssKiB: number;
  podmanIdlePssKiB: number | null;
  /** The RSS medians split: conmon, and the container's own process. */
  agentIdleParts: { conmonKiB: number; processKiB: number };
  podmanIdleParts: { conmonKiB: number; processKiB: number } | null;
}

export async function benchContainers(): Promise<ContainerBench> {
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-ctr-"));
  const registry = await startRegistry({ auth: "none" });
  let agent: DockerAgent | null = null;
  const { available: havePodman, args: podmanArgs, env: podmanEnv } = podmanPeer(work);
  try {
    const built = await buildToolsImage(path.join(work, "tools"));
    const image = `${registry.host}/bench/tools:latest`;
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${image}`);
    agent = await startDockerAgent({ allowLocalRegistries: registry.localEndpoints });
    const pulled = await agent.docker(["pull", image]);
    if (pulled.code !== 0) throw new Error(pulled.stderr);
    if (havePodman) await sh("podman", [...podmanArgs, "pull", "--tls-verify=false", "-q", image], podmanEnv);

    // The floor: `runc run` of a prepared bundle with the same OCI config the agent generates (Docker's
    // default profile: seccomp, capabilities, masks, limits), on a plain copy of the image's root filesystem.
    // So the ratio is the agent's own overhead: API, state, overlay mount, conmon, log, exit handling.
    const sample = await api(agent.socket, "POST", "/v1.43/containers/create?name=floor-source", { Image: image, Cmd: ["echo", "hi"] });
    const sampleId = (JSON.parse(sample.body) as { Id: string }).Id;
    await api(agent.socket, "POST", `/v1.43/containers/${sampleId}/start`);
    await api(agent.socket, "POST", `/v1.43/containers/${sampleId}/wait`);
    const bundle = path.join(work, "bundle");
    const snapshotDiff = (await sh("sh", ["-c", `ls -d ${agent.root}/snapshots/*/diff | head -1`])).trim();
    cpSync(snapshotDiff, path.join(bundle, "rootfs"), { recursive: true, verbatimSymlinks: true });
    const specText = readFileSync(path.join(agent.root, "containers", sampleId, "bundle", "config.json"), "utf8");
    const writeFloorSpec = (run: number) => {
      const spec = JSON.parse(specText.replace(/18446744073709551615/g, "-1")) as { root: { path: string }; linux: { cgroupsPath: string } };
      spec.root.path = path.join(bundle, "rootfs");
      spec.linux.cgroupsPath = `/berth-bench-floor/${run}`;
      writeFileSync(path.join(bundle, "config.json"), JSON.stringify(spec).replace(/(?<=[:,\[])-1(?=[,}\]])/g, "18446744073709551615"));
    };
    const runcRoot = path.join(work, "runc-state");

    const apiTimes: number[] = [];
    const floorTimes: number[] = [];
    const splitTimes: number[] = [];
    const podmanTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      // --network none, as podman is run: the bridge is measured in the network bench.
      const out = await apiRun(agent.socket, { Image: image, Cmd: ["echo", "hi"], HostConfig: { AutoRemove: true, NetworkMode: "none" } });
      apiTimes.push(performance.now() - start);
      if (out !== "hi\n") throw new Error(`api run printed ${JSON.stringify(out)}`);
      writeFloorSpec(i);
      floorTimes.push(await timeChild("runc", ["--root", runcRoot, "run", "--bundle", bundle, `floor-${i}`]));
      // The same bundle as an engine that keeps a monitor (conmon) between create and start must run it:
      // three runc processes. The wait for the exit in between is not counted.
      writeFloorSpec(RUNS + i);
      const split = `split-${i}`;
      const created = await timeDetached("runc", ["--root", runcRoot, "create", "--bundle", bundle, split]);
      const started = await timeDetached("runc", ["--root", runcRoot, "start", split]);
      for (let poll = 0; poll < 200 && !(await sh("runc", ["--root", runcRoot, "state", split])).includes('"stopped"'); poll++) await sleep(5);
      splitTimes.push(created + started + (await timeDetached("runc", ["--root", runcRoot, "delete", split])));
      if (havePodman) podmanTimes.push(await timeChild("podman", [...podmanArgs, "run", "--rm", "--network", "none", image, "echo", "hi"], podmanEnv));
    }

    // ps with many running containers.
    for (let i = 0; i < PS_CONTAINERS; i++) {
      const created = await api(agent.socket, "POST", `/v1.43/containers/create?name=idle-${i}`, { Image: image, Cmd: ["sleep", "3600"] });
      const id = (JSON.parse(created.body) as { Id: string }).Id;
      const started = await api(agent.socket, "POST", `/v1.43/containers/${id}/start`);
      if (started.status !== 204) throw new Error(`start idle-${i}: ${started.body}`);
    }
    const psTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      const res = await api(agent.socket, "GET", "/v1.43/containers/json");
      psTimes.push(performance.now() - start);
      if ((JSON.parse(res.body) as unknown[]).length !== PS_CONTAINERS) throw new Error("ps did not list every container");
    }

    // The ps containers go first: their 200 processes keep our busybox's pages mapped, and mapped pages
    // survive the cache drop below, so our new processes would fault more of busybox in than podman's
    // (whose copy of busybox nothing else maps) and the comparison would not be like with like.
    const psIds = (JSON.parse((await api(agent.socket, "GET", "/v1.43/containers/json")).body) as { Id: string }[]).map((c) => c.Id);
    for (let i = 0; i < psIds.length; i += 8) {
      await Promise.all(psIds.slice(i, i + 8).map((id) => api(agent!.socket, "DELETE", `/v1.43/containers/${id}?force=1`)));
    }

    // Idle memory: conmon + the container's process, 10 fresh `sleep` containers each, read after both sets
    // have idled for 2 s; the median. The page cache is dropped first: RSS counts the clean file pages a
    // process maps, and the kernel maps more of them (fault-around) when more of the binary happens to be
    // cached, which would favour whichever copy of busybox the earlier runs warmed.
    await sh("sh", ["-c", "sync; echo 3 > /proc/sys/vm/drop_caches"]).catch(() => "");
    // Started alternately, so both see the same page-cache state.
    const ourIds: string[] = [];
    const podmanPids: [number, number][] = [];
    for (let i = 0; i < 10; i++) {
      const created = await api(agent.socket, "POST", `/v1.43/containers/create?name=mem-${i}`, { Image: image, Cmd: ["sleep", "3600"] });
      const id = (JSON.parse(created.body) as { Id: string }).Id;
      await api(agent.socket, "POST", `/v1.43/containers/${id}/start`);
      ourIds.push(id);
      if (!havePodman) continue;
      const podmanId = (await sh("podman", [...podmanArgs, "run", "-d", "--network", "none", image, "sleep", "3600"], podmanEnv)).trim();
      const [conmon, pid] = (await sh("podman", [...podmanArgs, "inspect", "-f", "{{.State.ConmonPid}} {{.State.Pid}}", podmanId], podmanEnv)).trim().split(" ").map(Number);
      podmanPids.push([conmon!, pid!]);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const ours: number[] = [];
    const oursPss: number[] = [];
    const oursConmon: number[] = [];
    const oursProcess: number[] = [];
    for (const id of ourIds) {
      const inspect = JSON.parse((await api(agent.socket, "GET", `/v1.43/containers/${id}/json`)).body) as { State: { Pid: number } };
      const conmonPid = Number(readFileSync(path.join(agent.execRoot, id, "conmon.pid"), "utf8").trim());
      oursConmon.push(rssKiB(conmonPid));
      oursProcess.push(rssKiB(inspect.State.Pid));
      ours.push(rssKiB(conmonPid) + rssKiB(inspect.State.Pid));
      oursPss.push(pssKiB(conmonPid) + pssKiB(inspect.State.Pid));
    }
    const podmanIdleKiB = havePodman ? median(podmanPids.map(([c, p]) => rssKiB(c) + rssKiB(p))) : null;
    const podmanIdlePssKiB = havePodman ? median(podmanPids.map(([c, p]) => pssKiB(c) + pssKiB(p))) : null;
    const podmanIdleParts = havePodman
      ? { conmonKiB: median(podmanPids.map(([c]) => rssKiB(c))), processKiB: median(podmanPids.map(([, p]) => rssKiB(p))) }
      : null;
    if (havePodman) await sh("podman", [...podmanArgs, "rm", "-f", "-t", "0", "-a"], podmanEnv).catch(() => "");

    return {
      runs: RUNS,
      apiRunMs: median(apiTimes),
      runcFloorMs: median(floorTimes),
      runcSplitMs: median(splitTimes),
      podmanRunMs: havePodman ? median(podmanTimes) : null,
      psContainers: PS_CONTAINERS,
      psMs: median(psTimes),
      agentIdleKiB: median(ours),
      podmanIdleKiB,
      agentIdlePssKiB: median(oursPss),
      podmanIdlePssKiB,
      agentIdleParts: { conmonKiB: median(oursConmon), processKiB: median(oursProcess) },
      podmanIdleParts,
    };
  } finally {
    await agent?.destroy();
    if (havePodman) {
      await sh("podman", [...podmanArgs, "rm", "-f", "-a"], podmanEnv).catch(() => "");
      await sh("podman", [...podmanArgs, "system", "reset", "-f"], podmanEnv).catch(() => "");
    }
    await registry.stop();
    await sh("sh", ["-c", `umount -R ${path.join(work, "podman")}/root/overlay 2>/dev/null; for d in /sys/fs/cgroup/*/berth-bench-floor; do rmdir $d/* $d 2>/dev/null; done; true`]).catch(() => "");
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}
