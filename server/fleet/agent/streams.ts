import type { Readable } from "node:stream";

/** Splits a byte stream into JSON values, one per line (Docker's progress and event streams). */
export async function* jsonLines<T>(body: Readable): AsyncGenerator<T> {
  let buffered = "";
  for await (const chunk of body) {
    buffered += (chunk as Buffer).toString("utf8");
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as T;
}

export interface LogFrame {
  stream: "stdout" | "stderr";
  text: string;
}

/**
 * Docker's multiplexed stream (non-TTY logs and attach): an 8-byte header
 * [stream, 0, 0, 0, size (BE u32)] before each frame. A TTY stream has no
 * headers; it is all stdout.
 */
export async function* demux(body: Readable, tty: boolean): AsyncGenerator<LogFrame> {
  if (tty) {
    for await (const chunk of body) yield { stream: "stdout", text: (chunk as Buffer).toString("utf8") };
    return;
  }
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const stream = pending[0] === 2 ? "stderr" : "stdout";
      yield { stream, text: pending.subarray(8, 8 + size).toString("utf8") };
      pending = pending.subarray(8 + size);
    }
  }
}
