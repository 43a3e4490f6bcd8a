import "server-only";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/** Longest JSON line or log frame accepted from an agent; a misbehaving host can't make the gateway buffer more. */
export const MAX_LINE_BYTES = 1024 * 1024;
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

function tooBig(body: Readable, what: string, limit: number): never {
  body.destroy();
  throw new Error(`the agent sent ${what} longer than ${limit} bytes`);
}

/** Splits a byte stream into JSON values, one per line (Docker's progress and event streams). */
export async function* jsonLines<T>(body: Readable): AsyncGenerator<T> {
  let buffered = "";
  // A decoder, not chunk.toString(): a chunk may end inside a multi-byte character.
  const decoder = new StringDecoder("utf8");
  for await (const chunk of body) {
    buffered += decoder.write(chunk as Buffer);
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
    if (buffered.length > MAX_LINE_BYTES) tooBig(body, "a line", MAX_LINE_BYTES);
  }
  buffered += decoder.end();
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
    const decoder = new StringDecoder("utf8");
    for await (const chunk of body) {
      const text = decoder.write(chunk as Buffer);
      if (text) yield { stream: "stdout", text };
    }
    const rest = decoder.end();
    if (rest) yield { stream: "stdout", text: rest };
    return;
  }
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (size > MAX_FRAME_BYTES) tooBig(body, "a log frame", MAX_FRAME_BYTES);
      if (pending.length < 8 + size) break;
      const stream = pending[0] === 2 ? "stderr" : "stdout";
      yield { stream, text: pending.subarray(8, 8 + size).toString("utf8") };
      pending = pending.subarray(8 + size);
    }
  }
}
