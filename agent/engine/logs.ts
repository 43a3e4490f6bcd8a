import { watch } from "node:fs";
import { open, stat } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";

// Reads conmon's k8s-file logs: `<RFC3339Nano time> <stdout|stderr> <F|P> <text>\n`.
// P marks a partial line (conmon splits long lines); segments join until the next F.

export interface LogEntry {
  stream: "stdout" | "stderr";
  /** RFC 3339 with nanoseconds, as conmon wrote it. */
  time: string;
  /** Milliseconds since the epoch. */
  ms: number;
  /** Nanoseconds since the epoch (since/until compare at this precision, as the CLI sends them). */
  ns: bigint;
  /** The text, with its newline when the line was complete. */
  text: string;
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Only the last N entries ("all" = every entry). */
  tail: number | "all";
  /** Unix seconds (fractional allowed); 0 = no bound. */
  since: number;
  until: number;
  /** The same bounds in nanoseconds, exact (they win over since/until when set). */
  sinceNs?: bigint;
  untilNs?: bigint;
}

/** "2025-01-02T03:04:05.123456789+00:00" (or Z) → nanoseconds since the epoch. */
export function timeToNanos(time: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(.*)$/.exec(time);
  if (!m) return BigInt(Math.trunc(Date.parse(time))) * 1_000_000n;
  const seconds = Date.parse(`${m[1]}${m[3] || "Z"}`);
  if (Number.isNaN(seconds)) return 0n;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/** "1732950000.123456789" (Docker's wire form) or an RFC 3339 time → nanoseconds; null if neither. */
export function parseTimeBound(value: string): bigint | null {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
  if (Number.isNaN(Date.parse(value))) return null;
  return timeToNanos(value);
}

const READ_CHUNK = 256 * 1024;

export function parseLogLine(line: string): { stream: "stdout" | "stderr"; time: string; partial: boolean; text: string } | null {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  const c = line.indexOf(" ", b + 1);
  if (a < 0 || b < 0) return null;
  const stream = line.slice(a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return null;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? "" : line.slice(c + 1);
  return { stream, time: line.slice(0, a), partial: tag === "P", text };
}

/**
 * Splits raw log bytes into entries. Keeps what isn't whole yet (a line cut by
 * a read, a multi-byte character cut in two, P segments waiting for their F),
 * so a follower can carry on from where a reader stopped.
 */
export class LogParser {
  private pending = new Map<string, { time: string; text: string }>();
  private rest = "";
  private readonly decoder = new StringDecoder("utf8");

  push(chunk: Buffer | string): LogEntry[] {
    const data = this.rest + (typeof chunk === "string" ? chunk : this.decoder.write(chunk));
    const lines = data.split("\n");
    this.rest = lines.pop() ?? "";
    const out: LogEntry[] = [];
    for (const line of lines) {
      const parsed = parseLogLine(line);
      if (!parsed) continue;
      const earlier = this.pending.get(parsed.stream);
      const text = (earlier?.text ?? "") + parsed.text;
      const time = earlier?.time ?? parsed.time;
      if (parsed.partial) {
        this.pending.set(parsed.stream, { time, text });
        continue;
      }
      this.pending.delete(parsed.stream);
      out.push({ stream: parsed.stream, time, ms: Date.parse(time), ns: timeToNanos(time), text: text + "\n" });
    }
    return out;
  }

  /** Partial segments still waiting for their end (the container stopped mid-line). */
  flush(): LogEntry[] {
    const out = [...this.pending.entries()].map(([stream, p]) => ({ stream: stream as "stdout" | "stderr", time: p.time, ms: Date.parse(p.time), ns: timeToNanos(p.time), text: p.text }));
    this.pending.clear();
    return out;
  }
}

function wanted(e: LogEntry, q: LogQuery): boolean {
  if (e.stream === "stdout" ? !q.stdout : !q.stderr) return false;
  if (q.sinceNs !== undefined ? e.ns < q.sinceNs : q.since && e.ms < q.since * 1000) return false;
  if (q.untilNs !== undefined ? e.ns > q.untilNs : q.until && e.ms > q.until * 1000) return false;
  return true;
}

/**
 * Reads the whole file (what `logs` without follow shows), filtered. Returns
 * the entries, the offset read to, and the parser (holding any unfinished
 * line) for followLog to carry on with.
 */
export async function readLog(file: string, q: LogQuery): Promise<{ entries: LogEntry[]; offset: number; parser: LogParser }> {
  const parser = new LogParser();
  let entries: LogEntry[] = [];
  let offset = 0;
  const handle = await open(file, "r").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (!handle) return { entries, offset, parser };
  try {
    const buf = Buffer.alloc(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      for (const e of parser.push(buf.subarray(0, bytesRead))) {
        if (!wanted(e, q)) continue;
        entries.push(e);
        // Keep memory bounded by the tail while reading.
        if (q.tail !== "all" && entries.length > q.tail * 2 + 1000) entries = entries.slice(-q.tail);
      }
    }
  } finally {
    await handle.close();
  }
  if (q.tail !== "all") entries = q.tail === 0 ? [] : entries.slice(-q.tail);
  return { entries, offset, parser };
}

/**
 * Follows the log from `offset`: yields entries as conmon appends them until
 * `done()` says the writer is finished (then one last read drains the rest)
 * or the signal aborts.
 */
export async function* followLog(
  file: string,
  offset: number,
  q: LogQuery,
  done: () => boolean,
  signal: AbortSignal,
  /** Lets the caller wake the reader when `done` may have changed (returns an unsubscribe). */
  onChange?: (wake: () => void) => () => void,
  /** readLog's parser, when following on from it (it holds any unfinished line). */
  parser: LogParser = new LogParser(),
): AsyncGenerator<LogEntry> {
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  signal.addEventListener("abort", poke, { once: true });
  const unsubscribe = onChange?.(poke);
  let watcher: ReturnType<typeof watch> | null = null;
  const buf = Buffer.alloc(READ_CHUNK);
  try {
    for (;;) {
      if (signal.aborted) return;
      const finished = done();
      const size = await stat(file).then((s) => s.size, () => -1);
      if (size >= 0 && !watcher) {
        try {
          watcher = watch(file, poke);
          watcher.on("error", () => {});
        } catch {
          watcher = null;
        }
      }
      if (size > offset) {
        const handle = await open(file, "r");
        try {
          for (;;) {
            const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
            if (bytesRead === 0) break;
            offset += bytesRead;
            for (const e of parser.push(buf.subarray(0, bytesRead))) if (wanted(e, q)) yield e;
          }
        } finally {
          await handle.close();
        }
      } else if (size >= 0 && size < offset) {
        offset = 0; // truncated (log size limit): start over
      }
      if (finished) {
        for (const e of parser.flush()) if (wanted(e, q)) yield e;
        return;
      }
      // Woken by the file watcher, the caller (done changed) or, as a fallback, a short timer.
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(poke, 250);
      });
    }
  } finally {
    watcher?.close();
    unsubscribe?.();
    signal.removeEventListener("abort", poke);
  }
}
