import { existsSync, watch, type FSWatcher } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { ContainerRecord } from "./container-store";
import type { PathsOf } from "./container-paths";

// Exits and restarts: how the engine hears that a container exited (conmon's
// exit file, watched with inotify and a slow poll), what the exit was, who
// waits for it, and whether and when the restart policy starts it again. The
// engine decides under the container's lock; these keep the mechanics.

const EXIT_POLL_MS = 2_000;
const MIN_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 60_000;
/** A container that ran this long before exiting restarts without backoff (Docker resets after 10 s). */
const RESTART_RESET_MS = 10_000;

/** Calls back with the id of each container conmon writes an exit file for. */
export class ExitWatcher {
  private watcher: FSWatcher | null = null;
  private poller: NodeJS.Timeout | null = null;

  constructor(readonly dir: string) {}

  /** inotify on the exit directory, for the containers `known` says are ours. */
  watch(known: (id: string) => boolean, onExit: (id: string) => void): void {
    this.watcher = watch(this.dir, (_event, file) => {
      if (file && known(String(file))) onExit(String(file));
    });
    this.watcher.on("error", () => {});
  }

  /** inotify can miss events (e.g. the directory was replaced): a slow poll of the running containers backs it up. */
  poll(running: () => Iterable<string>, onExit: (id: string) => void): void {
    this.poller = setInterval(() => {
      void readdir(this.dir).then(
        (names) => {
          const present = new Set(names);
          for (const id of running()) if (present.has(id)) onExit(id);
        },
        () => {},
      );
    }, EXIT_POLL_MS);
    this.poller.unref();
  }

  close(): void {
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
  }
}

/** Whether conmon has recorded an exit (the process may be gone before runc says so). */
export function exitRecorded(p: PathsOf): boolean {
  return existsSync(p.exitFile);
}

/** What conmon recorded of an exit: the code (255 when it recorded none) and whether the kernel OOM-killed the container. */
export async function readExit(p: PathsOf): Promise<{ exitCode: number; oomKilled: boolean }> {
  const parse = (s: string) => Number.parseInt(s.trim(), 10);
  const code = await readFile(p.exitFile, "utf8").then(parse, () => null);
  const persisted = code ?? (await readFile(path.join(p.persist, "exit"), "utf8").then(parse, () => null));
  return {
    exitCode: Number.isFinite(persisted) && persisted !== null ? persisted : 255,
    oomKilled: existsSync(path.join(p.persist, "oom")),
  };
}

/** Removes conmon's record of the exit, so the next run's is the only one. */
export async function clearExit(p: PathsOf): Promise<void> {
  await rm(p.exitFile, { force: true });
  await rm(path.join(p.persist, "oom"), { force: true });
  await rm(path.join(p.persist, "exit"), { force: true });
}

// ---- waiting ----

export type WaitCondition = "not-running" | "next-exit" | "removed";
export type WaitResult = { StatusCode: number; Error: { Message: string } | null };

interface Waiter {
  condition: WaitCondition;
  resolve: (r: WaitResult) => void;
  reject: (e: unknown) => void;
}

/** Docker's POST /containers/{id}/wait: who waits for which condition of which container. */
export class Waiters {
  private readonly byId = new Map<string, Waiter[]>();

  /** Waits for `condition`; a waiter whose client has gone (`signal` aborted) is forgotten. */
  add(id: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { condition, resolve, reject };
      const list = this.byId.get(id) ?? [];
      list.push(waiter);
      this.byId.set(id, list);
      signal?.addEventListener(
        "abort",
        () => {
          this.drop(id, waiter);
          reject(new Error("the client stopped waiting"));
        },
        { once: true },
      );
    });
  }

  /** Answers those waiting for one of `conditions` with the exit code, or (`failure`) with what went wrong. */
  settle(id: string, exitCode: number, conditions: WaitCondition[], failure?: unknown): void {
    const list = this.byId.get(id);
    if (!list) return;
    const keep: Waiter[] = [];
    for (const w of list) {
      if (!conditions.includes(w.condition)) keep.push(w);
      else if (failure !== undefined) w.reject(failure);
      else w.resolve({ StatusCode: exitCode, Error: null });
    }
    if (keep.length) this.byId.set(id, keep);
    else this.byId.delete(id);
  }

  private drop(id: string, waiter: Waiter): void {
    const list = (this.byId.get(id) ?? []).filter((w) => w !== waiter);
    if (list.length) this.byId.set(id, list);
    else this.byId.delete(id);
  }

  rejectAll(e: unknown): void {
    for (const list of this.byId.values()) for (const w of list) w.reject(e);
    this.byId.clear();
  }
}

// ---- restart policy ----

/** Whether the restart policy starts the container again after the exit just recorded. */
export function restartWanted(record: ContainerRecord): boolean {
  const policy = record.host.RestartPolicy;
  if (record.state.manuallyStopped) return false;
  if (policy.Name === "always" || policy.Name === "unless-stopped") return true;
  const failed = record.state.exitCode !== 0;
  return policy.Name === "on-failure" && failed && (policy.MaximumRetryCount <= 0 || record.state.restartCount < policy.MaximumRetryCount);
}

/** Whether the container comes back when the host has rebooted (Docker's restart on daemon start). */
export function restartAfterReboot(record: ContainerRecord): boolean {
  const policy = record.host.RestartPolicy.Name;
  return policy === "always" || (policy === "unless-stopped" && !record.state.manuallyStopped);
}

/**
 * Restart timers with Docker's backoff: 100 ms, doubling up to a minute for a
 * container that keeps failing; one that ran 10 s or more starts over at 100 ms.
 */
export class RestartTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly delays = new Map<string, number>();

  /** The delay before restarting `id` after a run of `ranForMs`; remembered, to double the next one. */
  nextDelay(id: string, ranForMs: number): number {
    const previous = this.delays.get(id);
    const delay = ranForMs >= RESTART_RESET_MS || previous === undefined ? MIN_RESTART_DELAY_MS : Math.min(previous * 2, MAX_RESTART_DELAY_MS);
    this.delays.set(id, delay);
    return delay;
  }

  schedule(id: string, delayMs: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(id);
      task();
    }, delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  cancel(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  /** The container is gone: its timer and its backoff with it. */
  forget(id: string): void {
    this.cancel(id);
    this.delays.delete(id);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
  }
}
