import type { EventEmitter } from "node:events";

/**
 * Resolves when `stream` can take more input, or never can again (it closed
 * or is destroyed): a writer waiting on a client that went away never hangs.
 */
export function drained(stream: EventEmitter & { destroyed?: boolean }): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}
