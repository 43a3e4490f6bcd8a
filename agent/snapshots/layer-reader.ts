import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import tar, { type Extract, type Header } from "tar-stream";
import { drained } from "../drained";
import { CorruptLayerError } from "./errors";
import { parsePaxRecords, type RawPaxRecords } from "./pax-records";

// Streams an uncompressed layer tar entry by entry, hashing every byte read
// (the DiffID covers the whole stream, end-of-archive padding included), and
// classifies failures: a bad stream becomes CorruptLayerError, while errors
// thrown by the entry handler (disk full, UnsafeLayerError…) pass unchanged.

export interface LayerEntry {
  header: Header;
  /** PAX records of this entry with byte-exact values (see pax-records.ts). */
  pax: RawPaxRecords;
  /** File content; it must be consumed or the extraction stalls (readLayerTar drains leftovers). */
  content: AsyncIterable<Buffer>;
}

export interface LayerDigest {
  diffId: string;
  /** Uncompressed tar bytes read. */
  bytes: number;
}

// tar-stream parses PAX headers in Extract#_decodeLongHeader and keeps only
// string values; we wrap that method on our own instance to also keep the raw
// body. A tar-stream upgrade that renames it fails loudly here, not silently.
interface ExtractInternals {
  _header: { type: string | null } | null;
  _decodeLongHeader(buf: Uint8Array): void;
}

function withRawPax(extract: Extract): { take(): RawPaxRecords } {
  const internals = extract as unknown as ExtractInternals;
  const decode = internals._decodeLongHeader;
  if (typeof decode !== "function") throw new Error("tar-stream internals changed: Extract#_decodeLongHeader is gone");
  let global: RawPaxRecords = new Map();
  let local: RawPaxRecords | null = null;
  internals._decodeLongHeader = function (this: ExtractInternals, buf: Uint8Array) {
    decode.call(this, buf);
    const type = this._header?.type;
    if (type === "pax-header") local = parsePaxRecords(buf);
    else if (type === "pax-global-header") global = new Map([...global, ...parsePaxRecords(buf)]);
  };
  return {
    take() {
      const records = local === null ? global : new Map([...global, ...local]);
      local = null;
      return records;
    },
  };
}

/**
 * Calls `onEntry` for each entry, one at a time, in stream order. Resolves
 * with the DiffID once the whole stream has been read and every entry handled.
 */
export async function readLayerTar(input: Readable, onEntry: (entry: LayerEntry) => Promise<void>): Promise<LayerDigest> {
  // allowUnknownFormat: pre-POSIX (v7) headers are valid tar, Go reads them too;
  // the header checksum still rejects garbage.
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  const rawPax = withRawPax(extract);
  const paxByHeader = new WeakMap<Header, RawPaxRecords>();
  // Registered before iteration starts, so it runs while the entry's PAX header is still the latest.
  extract.on("entry", (header: Header) => paxByHeader.set(header, rawPax.take()));

  let extractError: Error | null = null;
  extract.on("error", (err: Error) => (extractError = err));
  let sourceError: Error | null = null;
  let current: string | null = null;

  const hash = createHash("sha256");
  let bytes = 0;
  let stopped = false;
  const pump = (async () => {
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        if (stopped) return;
        hash.update(chunk);
        bytes += chunk.length;
        if (!extract.write(chunk)) await drained(extract);
      }
      // streamx types want an argument; undefined just ends the stream.
      if (!stopped) extract.end(undefined);
    } catch (err) {
      if (stopped) return;
      sourceError = err instanceof Error ? err : new Error(String(err));
      extract.destroy(sourceError);
    }
  })();

  try {
    for await (const source of extract) {
      current = source.header.name;
      await onEntry({ header: source.header, pax: paxByHeader.get(source.header) ?? new Map(), content: source as AsyncIterable<Buffer> });
      // Whatever the handler didn't read (e.g. a hardlink's body) must still be consumed.
      for await (const _ of source as AsyncIterable<Buffer>);
      current = null;
    }
    await pump;
  } catch (err) {
    stopped = true;
    input.destroy();
    extract.destroy();
    // Once closed, the parser has reported its own error (if any) and the pump has stopped.
    await closed(extract);
    await pump;
    if (sourceError) throw sourceError;
    // A parser failure mid-entry reaches the handler as the entry stream's error: the same object.
    if (extractError && err === extractError) {
      throw new CorruptLayerError(current, describe(extractError), { cause: extractError });
    }
    throw err;
  }
  if (sourceError) throw sourceError;
  return { diffId: `sha256:${hash.digest("hex")}`, bytes };
}

function closed(extract: Extract): Promise<void> {
  return new Promise((resolve) => (extract.destroyed ? resolve() : extract.once("close", () => resolve())));
}

function describe(err: Error): string {
  if (/unexpected end of data/i.test(err.message)) return "tar stream is truncated";
  return `invalid tar stream (${err.message})`;
}
