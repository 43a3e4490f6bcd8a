/** Runs at most `n` tasks at once; the rest wait their turn in order. */
export function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>, onQueued?: () => void): Promise<T> {
    if (active >= n) {
      onQueued?.();
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
