// What the benchmarks share: running a command, timing it, talking to the agent's API the way
// `docker run` does, and a podman peer configured the way the issues ask (runtime runc,
// nofile/nproc 1024) in its own storage.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { AGENT_BUNDLE } from "../test/fixtures/docker-agent";
import type { HttpClient } from "../test/fixtures/http-client";
import { agentFlags, type SshTestHost } from "../test/fixtures/ssh-hosts";

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: env ?? process.env, maxBuffer: 64 << 20, timeout: 600_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

export async function timed(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

/** A command's wall time; rejects if it exits non-zero. */
export function timeChild(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.resume();
    child.on("close", (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err}`))));
  });
}

/**
 * A command's wall time until it exits, its stdio not kept: for `runc create`, whose container
 * inherits the streams and holds them open after runc is gone. Rejects if it exits non-zero.
 */
export function timeDetached(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`))));
  });
}

export function api(socket: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath: socket, method, path: urlPath, headers: data ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } : {} }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

/** What `docker run --rm` sends, without the CLI process: create, attach (hijacked), wait, start. Resolves with the output. */
export async function apiRun(socket: string, body: object): Promise<string> {
  const created = await api(socket, "POST", "/v1.43/containers/create", { AttachStdout: true, AttachStderr: true, ...body });
  if (created.status !== 201) throw new Error(`create: ${created.body}`);
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  return new Promise<string>((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: "POST", path: `/v1.43/containers/${id}/attach?stream=1&stdout=1&stderr=1`, headers: { Connection: "Upgrade", Upgrade: "tcp" } });
    req.on("upgrade", (_res, sock) => {
      const chunks: Buffer[] = [];
      sock.on("data", (c: Buffer) => chunks.push(c));
      sock.on("end", () => resolve(Buffer.concat(chunks).subarray(8).toString()));
      void api(socket, "POST", `/v1.43/containers/${id}/wait?condition=removed`);
      void api(socket, "POST", `/v1.43/containers/${id}/start`).then((r) => r.status === 204 || reject(new Error(`start: ${r.body}`)));
    });
    req.on("error", reject);
    req.end();
  });
}

export interface PodmanPeer {
  available: boolean;
  /** Global flags: its own storage under the bench's work dir, cgroupfs, no events. */
  args: string[];
  env: NodeJS.ProcessEnv;
}

export function podmanPeer(work: string, extraEnv: Record<string, string> = {}): PodmanPeer {
  const root = path.join(work, "podman");
  const conf = path.join(work, "containers.conf");
  writeFileSync(conf, `[engine]\nruntime = "runc"\n[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n`);
  return {
    available: existsSync("/usr/bin/podman"),
    args: ["--root", path.join(root, "root"), "--runroot", path.join(root, "run"), "--cgroup-manager", "cgroupfs", "--events-backend", "none"],
    env: { ...process.env, CONTAINERS_CONF: conf, ...extraEnv },
  };
}

export interface Stats {
  p50: number;
  p95: number;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function stats(xs: number[]): Stats {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/** A connected unix socket, as an AgentClient opener hands it over (a new one per request). */
export function openUnixSocket(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

// ---------------------------------------------------------------- an agent on an SSH test host

export interface RunningAgent {
  child: ChildProcess;
  exited: Promise<void>;
  stderr: () => string;
}

const AGENT_STOP_MS = 10_000;

/** Copies the bundle into the host's install dir and starts `serve` inside its network namespace. */
export async function startHostAgent(host: SshTestHost): Promise<RunningAgent> {
  const bundle = path.join(host.agent.installDir, "berth-agent.mjs");
  await copyFile(AGENT_BUNDLE, bundle);
  // nsenter execs node in place: the child's pid is the agent's.
  const child = spawn("nsenter", [`--net=/run/netns/${host.netns}`, "--", process.execPath, bundle, "serve", "--socket", host.agent.socket, ...agentFlags(host.agent)], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (e) => {
      stderr += `spawn error: ${e.message}\n`;
      resolve();
    });
  });
  return { child, exited, stderr: () => stderr };
}

/** SIGTERM, then SIGKILL if the agent is still there after 10 s. */
export async function stopHostAgent(agent: RunningAgent): Promise<void> {
  const { child } = agent;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), AGENT_STOP_MS);
  await agent.exited;
  clearTimeout(timer);
}

/** A tRPC call through the test client that throws with the procedure's name on an error (benchmarks stop at the first). */
export async function trpcData<T>(client: HttpClient, procedure: string, input?: unknown, type: "query" | "mutation" = "mutation"): Promise<T> {
  const res = await client.trpc<T>(procedure, input, type);
  if (res.error) throw new Error(`${procedure}: ${res.error.message}`);
  return res.data!;
}
