import { spawn } from "node:child_process";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { AgentError } from "../errors";
import { drained } from "../drained";
import { CorruptLayerError } from "./errors";

// Layers are gzip, zstd or plain tar. Registries and archives mislabel media
// types often enough (docker save writes plain tars under "tar+gzip" names,
// some tools the reverse) that we trust the magic bytes, never the label, as
// containerd and Docker do.

export type LayerCompression = "gzip" | "zstd" | "none";

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export function detectCompression(head: Buffer): LayerCompression {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return "gzip";
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return "zstd";
  return "none";
}

/**
 * Returns the uncompressed tar inside `input`. A truncated or corrupt
 * compressed stream makes the result fail with CorruptLayerError instead of
 * just ending early, so a damaged blob can never unpack as a shorter layer.
 * `mediaType` only labels error messages. Destroying the result stops `input`.
 */
export function openLayerStream(input: Readable, mediaType?: string): Readable {
  const out = new PassThrough();
  const label = mediaType ? `${mediaType} layer` : "layer";
  let finished = false;
  // The consumer gave up (bad entry, abort): stop the source too, even one
  // stalled mid-download that would never deliver another chunk.
  out.once("close", () => {
    if (!finished) input.destroy();
  });
  decompressInto(input, out, label).then(
    () => (finished = true),
    (err: unknown) => {
      input.destroy();
      if (!out.destroyed) out.destroy(err instanceof Error ? err : new Error(String(err)));
    },
  );
  return out;
}

async function decompressInto(input: Readable, out: PassThrough, label: string): Promise<void> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (head.length < ZSTD_MAGIC.length) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const rest = Readable.from(replay(head, chunks));
  const compression = detectCompression(head);

  if (compression === "none") {
    await pipeline(rest, forwardTo(out));
    if (!out.destroyed) out.end();
  } else if (compression === "gzip") {
    // Large output chunks: fewer zlib and write calls per layer (16 KiB default costs ~3× on big layers).
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    // Tells decoder failures (corruption) from the input's own errors.
    let decoderError: Error | null = null;
    gunzip.once("error", (err) => (decoderError = err));
    try {
      // `out` stays out of the pipeline, which would destroy it with the raw zlib error.
      await pipeline(rest, gunzip, forwardTo(out));
    } catch (err) {
      if (decoderError) throw new CorruptLayerError(null, `${label}: gzip stream is truncated or corrupt (${(decoderError as Error).message})`, { cause: decoderError });
      throw err;
    }
    if (!out.destroyed) out.end();
  } else {
    await unzstd(rest, out, label);
  }
}

/** A pipeline sink writing into `out` with backpressure; fails if `out` is destroyed (the consumer left). */
function forwardTo(out: PassThrough): (source: AsyncIterable<Buffer>) => Promise<void> {
  return async (source) => {
    for await (const chunk of source) {
      if (out.destroyed) throw new Error("layer stream closed before decompression finished");
      if (!out.write(chunk)) await drained(out);
    }
  };
}

async function* replay(head: Buffer, chunks: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Stops the underlying input when the consumer goes away early.
    await chunks.return?.();
  }
}

/**
 * Node 20's zlib has no zstd, so `zstd -dc` does it. Its exit status is the
 * only reliable corruption signal (stdout just ends), so `out` ends only after
 * a clean exit.
 */
function unzstd(input: Readable, out: PassThrough, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("zstd", ["-dc", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      child.kill("SIGKILL");
      input.destroy();
      reject(err);
    };

    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-2000)));
    child.on("error", (err) => fail(new AgentError("INTERNAL", `cannot run zstd to decompress ${label}: ${err.message}`, { cause: err })));
    // The consumer went away: stop decompressing.
    out.once("close", () => fail(new Error("layer stream closed before zstd finished")));
    child.stdout.pipe(out, { end: false });
    pipeline(input, child.stdin).catch((err: NodeJS.ErrnoException) => {
      // EPIPE means zstd quit early; its exit status says why.
      if (err.code !== "EPIPE") fail(err);
    });
    child.on("close", (code, signal) => {
      if (settled) return;
      if (code === 0) {
        settled = true;
        out.end();
        resolve();
      } else {
        const why = stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${code}`);
        fail(new CorruptLayerError(null, `${label}: zstd stream is truncated or corrupt (${why})`));
      }
    });
  });
}
