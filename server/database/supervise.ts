import "server-only";
import type { ChildProcess } from "node:child_process";

// Keeps a child process (the embedded Postgres) running: when it exits
// without being asked to, it is started again after a delay that doubles on
// each failed attempt, up to a cap, and resets once a start succeeds.

export interface Supervised {
  /** Stops supervising; resolves once no restart is running. Returns whether the process is still alive. */
  release: () => Promise<boolean>;
}

export interface SuperviseOptions {
  /** The running process (checked after every start). */
  current: () => ChildProcess | undefined;
  /** Starts it again; rejects if it did not come up. */
  restart: () => Promise<void>;
  log: (line: string) => void;
  name: string;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export function supervise(o: SuperviseOptions): Supervised {
  const first = o.firstDelayMs ?? 250;
  const max = o.maxDelayMs ?? 5_000;
  let released = false;
  let alive = true;
  let timer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | null = null;

  const watch = (child: ChildProcess | undefined) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      alive = false;
      schedule(first);
      return;
    }
    child.once("exit", (code, signal) => {
      alive = false;
      if (released) return;
      o.log(`${o.name} exited unexpectedly (${signal ?? `code ${code}`}); restarting it`);
      schedule(first);
    });
  };

  const schedule = (delay: number) => {
    if (released) return;
    timer = setTimeout(() => {
      restarting = (async () => {
        try {
          await o.restart();
          alive = true;
          o.log(`${o.name} is running again`);
          watch(o.current());
        } catch (e) {
          const next = Math.min(delay * 2, max);
          o.log(`${o.name} did not start (${e instanceof Error ? e.message : "it exited early"}); next attempt in ${next} ms`);
          schedule(next);
        }
      })().finally(() => {
        restarting = null;
      });
    }, delay);
  };

  watch(o.current());
  return {
    release: async () => {
      released = true;
      clearTimeout(timer);
      await restarting;
      return alive;
    },
  };
}
