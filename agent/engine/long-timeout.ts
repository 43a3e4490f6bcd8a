// setTimeout for delays of any length. Node's timers take at most 2^31-1 ms
// (about 24.8 days) and fire after 1 ms when asked for more, so a long
// delay (a health check interval of 1000h, an events `until` next year) is
// waited for in steps.

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimeout {
  clear(): void;
}

/** Calls `task` after `delayMs`; the timers don't keep the process alive. */
export function setLongTimeout(task: () => void, delayMs: number): LongTimeout {
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : task()), Math.min(Math.max(left, 0), MAX_TIMER_MS));
    timer.unref();
  };
  arm(delayMs);
  return { clear: () => clearTimeout(timer) };
}
