import { appendFile, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { followLog, type LogEntry, LogParser, type LogQuery, parseLogLine, parseTimeBound, readLog, timeToNanos } from "../../../agent/engine/logs";

// conmon's k8s-file format: `<RFC3339Nano> <stdout|stderr> <F|P> <text>\n`.

/** Unix seconds of 2025-01-02T03:04:05Z. */
const T0 = Date.UTC(2025, 0, 2, 3, 4, 5) / 1000;

/** The RFC 3339 time `offsetSeconds` after T0, with nanoseconds, as conmon writes it. */
function at(offsetSeconds: number, nanos = "123456789"): string {
  const d = new Date((T0 + offsetSeconds) * 1000);
  return `${d.toISOString().slice(0, 19)}.${nanos}+00:00`;
}

function line(offsetSeconds: number, stream: "stdout" | "stderr", tag: "F" | "P", text: string): string {
  return `${at(offsetSeconds)} ${stream} ${tag} ${text}\n`;
}

const ALL: LogQuery = { stdout: true, stderr: true, tail: "all", since: 0, until: 0 };

const texts = (entries: LogEntry[]) => entries.map((e) => e.text);

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-logs-"));
  file = path.join(dir, "ctr.log");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("parseLogLine", () => {
  it("splits time, stream, full tag and text", () => {
    expect(parseLogLine("2025-01-02T03:04:05.123456789+00:00 stdout F hello world")).toEqual({
      stream: "stdout",
      time: "2025-01-02T03:04:05.123456789+00:00",
      partial: false,
      text: "hello world",
    });
  });

  it("marks P lines as partial and reads stderr", () => {
    expect(parseLogLine("2025-01-02T03:04:05.000000001Z stderr P abc")).toEqual({
      stream: "stderr",
      time: "2025-01-02T03:04:05.000000001Z",
      partial: true,
      text: "abc",
    });
  });

  it("keeps spaces inside the text, including leading and trailing ones", () => {
    expect(parseLogLine("2025-01-02T03:04:05Z stdout F   a  b  ")?.text).toBe("  a  b  ");
  });

  it("gives an empty text when the line has only the tag (an empty line)", () => {
    expect(parseLogLine("2025-01-02T03:04:05Z stdout F")).toEqual({ stream: "stdout", time: "2025-01-02T03:04:05Z", partial: false, text: "" });
    expect(parseLogLine("2025-01-02T03:04:05Z stdout F ")?.text).toBe("");
  });

  it("rejects lines that are not log lines", () => {
    expect(parseLogLine("")).toBeNull();
    expect(parseLogLine("garbage")).toBeNull();
    expect(parseLogLine("2025-01-02T03:04:05Z stdout")).toBeNull();
    expect(parseLogLine("2025-01-02T03:04:05Z stdin F text")).toBeNull();
    expect(parseLogLine("2025-01-02T03:04:05Z STDOUT F text")).toBeNull();
  });
});

describe("LogParser", () => {
  it("turns full lines into entries with a newline, the time and milliseconds", () => {
    const p = new LogParser();
    const out = p.push(line(0, "stdout", "F", "one") + line(1, "stderr", "F", "two"));
    expect(out).toEqual([
      { stream: "stdout", time: at(0), ms: T0 * 1000 + 123, ns: BigInt(T0) * 1_000_000_000n + 123_456_789n, text: "one\n" },
      { stream: "stderr", time: at(1), ms: (T0 + 1) * 1000 + 123, ns: BigInt(T0 + 1) * 1_000_000_000n + 123_456_789n, text: "two\n" },
    ]);
  });

  it("joins P segments until the F, keeping the first segment's time", () => {
    const p = new LogParser();
    const out = p.push(line(0, "stdout", "P", "aaa") + line(1, "stdout", "P", "bbb") + line(2, "stdout", "F", "ccc"));
    expect(out).toEqual([{ stream: "stdout", time: at(0), ms: T0 * 1000 + 123, ns: BigInt(T0) * 1_000_000_000n + 123_456_789n, text: "aaabbbccc\n" }]);
  });

  it("keeps partial lines separate per stream", () => {
    const p = new LogParser();
    const out = p.push(
      line(0, "stdout", "P", "out-1 ") +
        line(1, "stderr", "P", "err-1 ") +
        line(2, "stderr", "F", "err-2") +
        line(3, "stdout", "F", "out-2"),
    );
    expect(out.map((e) => [e.stream, e.text])).toEqual([
      ["stderr", "err-1 err-2\n"],
      ["stdout", "out-1 out-2\n"],
    ]);
    expect(out[0]!.time).toBe(at(1));
    expect(out[1]!.time).toBe(at(0));
  });

  it("holds a line split across chunks until its newline arrives", () => {
    const p = new LogParser();
    const whole = line(0, "stdout", "F", "split me") + line(1, "stdout", "F", "next");
    const cut = 20; // inside the timestamp of the first line
    expect(p.push(whole.slice(0, cut))).toEqual([]);
    const second = whole.indexOf("\n") + 5; // into the second line
    expect(texts(p.push(whole.slice(cut, second)))).toEqual(["split me\n"]);
    expect(texts(p.push(whole.slice(second)))).toEqual(["next\n"]);
  });

  it("handles a chunk boundary exactly at the newline", () => {
    const p = new LogParser();
    const l = line(0, "stdout", "F", "x");
    expect(p.push(l.slice(0, -1))).toEqual([]);
    expect(texts(p.push("\n"))).toEqual(["x\n"]);
  });

  it("feeds one byte at a time and gives the same entries", () => {
    const data = line(0, "stdout", "P", "ab") + line(1, "stdout", "F", "cd") + line(2, "stderr", "F", "ef");
    const p = new LogParser();
    const out: LogEntry[] = [];
    for (const ch of data) out.push(...p.push(ch));
    expect(out).toEqual(new LogParser().push(data));
    expect(texts(out)).toEqual(["abcd\n", "ef\n"]);
  });

  it("skips lines it cannot parse", () => {
    const p = new LogParser();
    expect(texts(p.push("not a log line\n" + line(0, "stdout", "F", "ok") + "\n"))).toEqual(["ok\n"]);
  });

  it("an F line with no text is an empty line", () => {
    const p = new LogParser();
    expect(texts(p.push(`${at(0)} stdout F\n`))).toEqual(["\n"]);
  });

  it("flush() returns pending partial segments without a newline, then nothing", () => {
    const p = new LogParser();
    expect(p.push(line(0, "stdout", "P", "half ") + line(1, "stdout", "P", "way") + line(2, "stderr", "P", "err"))).toEqual([]);
    const flushed = p.flush();
    expect(flushed).toHaveLength(2);
    expect(flushed).toContainEqual({ stream: "stdout", time: at(0), ms: T0 * 1000 + 123, ns: BigInt(T0) * 1_000_000_000n + 123_456_789n, text: "half way" });
    expect(flushed).toContainEqual({ stream: "stderr", time: at(2), ms: (T0 + 2) * 1000 + 123, ns: BigInt(T0 + 2) * 1_000_000_000n + 123_456_789n, text: "err" });
    expect(p.flush()).toEqual([]);
  });

  it("flush() after a completed line has nothing to return", () => {
    const p = new LogParser();
    p.push(line(0, "stdout", "P", "a") + line(1, "stdout", "F", "b"));
    expect(p.flush()).toEqual([]);
  });
});

describe("readLog", () => {
  const fiveLines = [0, 1, 2, 3, 4].map((i) => line(i * 10, i % 2 ? "stderr" : "stdout", "F", `line${i}`)).join("");

  it("reads every entry with tail=all and returns the offset read to", async () => {
    await writeFile(file, fiveLines);
    const { entries, offset } = await readLog(file, ALL);
    expect(texts(entries)).toEqual(["line0\n", "line1\n", "line2\n", "line3\n", "line4\n"]);
    expect(entries.map((e) => e.stream)).toEqual(["stdout", "stderr", "stdout", "stderr", "stdout"]);
    expect(offset).toBe(Buffer.byteLength(fiveLines));
  });

  it("keeps only the last N entries with a numeric tail", async () => {
    await writeFile(file, fiveLines);
    expect(texts((await readLog(file, { ...ALL, tail: 2 })).entries)).toEqual(["line3\n", "line4\n"]);
    expect(texts((await readLog(file, { ...ALL, tail: 1 })).entries)).toEqual(["line4\n"]);
    expect(texts((await readLog(file, { ...ALL, tail: 50 })).entries)).toHaveLength(5);
  });

  it("tail=0 gives no entries but still reports the offset", async () => {
    await writeFile(file, fiveLines);
    const { entries, offset } = await readLog(file, { ...ALL, tail: 0 });
    expect(entries).toEqual([]);
    expect(offset).toBe(Buffer.byteLength(fiveLines));
  });

  it("tail counts entries after the stream filter", async () => {
    await writeFile(file, fiveLines);
    expect(texts((await readLog(file, { ...ALL, stderr: false, tail: 2 })).entries)).toEqual(["line2\n", "line4\n"]);
  });

  it("selects stdout or stderr only", async () => {
    await writeFile(file, fiveLines);
    expect(texts((await readLog(file, { ...ALL, stderr: false })).entries)).toEqual(["line0\n", "line2\n", "line4\n"]);
    expect(texts((await readLog(file, { ...ALL, stdout: false })).entries)).toEqual(["line1\n", "line3\n"]);
    expect((await readLog(file, { ...ALL, stdout: false, stderr: false })).entries).toEqual([]);
  });

  it("filters by since and until in unix seconds (inclusive)", async () => {
    await writeFile(file, fiveLines); // entries at T0+0.123, +10.123, +20.123, +30.123, +40.123
    expect(texts((await readLog(file, { ...ALL, since: T0 + 20 })).entries)).toEqual(["line2\n", "line3\n", "line4\n"]);
    expect(texts((await readLog(file, { ...ALL, until: T0 + 21 })).entries)).toEqual(["line0\n", "line1\n", "line2\n"]);
    expect(texts((await readLog(file, { ...ALL, since: T0 + 10, until: T0 + 31 })).entries)).toEqual(["line1\n", "line2\n", "line3\n"]);
  });

  it("compares since/until with sub-second precision", async () => {
    await writeFile(file, fiveLines);
    // line2 is at T0 + 20.123
    expect(texts((await readLog(file, { ...ALL, since: T0 + 20.123 })).entries)[0]).toBe("line2\n");
    expect(texts((await readLog(file, { ...ALL, since: T0 + 20.124 })).entries)[0]).toBe("line3\n");
    expect(texts((await readLog(file, { ...ALL, until: T0 + 20.123 })).entries).at(-1)).toBe("line2\n");
    expect(texts((await readLog(file, { ...ALL, until: T0 + 20.122 })).entries).at(-1)).toBe("line1\n");
  });

  it("combines since with tail", async () => {
    await writeFile(file, fiveLines);
    expect(texts((await readLog(file, { ...ALL, since: T0 + 10, tail: 2 })).entries)).toEqual(["line3\n", "line4\n"]);
  });

  it("joins partial lines in the file", async () => {
    await writeFile(file, line(0, "stdout", "P", "long ") + line(0, "stdout", "P", "long ") + line(0, "stdout", "F", "line"));
    expect(texts((await readLog(file, ALL)).entries)).toEqual(["long long line\n"]);
  });

  it("a missing file gives no entries and offset 0", async () => {
    expect(await readLog(path.join(dir, "nope.log"), ALL)).toMatchObject({ entries: [], offset: 0 });
  });

  it("an empty file gives no entries", async () => {
    await writeFile(file, "");
    expect(await readLog(file, ALL)).toMatchObject({ entries: [], offset: 0 });
  });

  it("reads files larger than one read chunk (256 KiB) without losing or splitting lines", async () => {
    const n = 5000;
    const body = Array.from({ length: n }, (_, i) => line(i, "stdout", "F", `${String(i).padStart(5, "0")} ${"x".repeat(60)}`)).join("");
    expect(Buffer.byteLength(body)).toBeGreaterThan(2 * 256 * 1024);
    await writeFile(file, body);
    const all = (await readLog(file, ALL)).entries;
    expect(all).toHaveLength(n);
    expect(all.every((e, i) => e.text === `${String(i).padStart(5, "0")} ${"x".repeat(60)}\n`)).toBe(true);
    const tail = (await readLog(file, { ...ALL, tail: 3 })).entries;
    expect(tail.map((e) => e.text.slice(0, 5))).toEqual(["04997", "04998", "04999"]);
  });
});

/** Drains a generator in the background. */
function collect(gen: AsyncGenerator<LogEntry>): Promise<LogEntry[]> {
  return (async () => {
    const out: LogEntry[] = [];
    for await (const e of gen) out.push(e);
    return out;
  })();
}

describe("followLog", () => {
  it("yields lines appended after the offset and ends once done() is true and it is woken", async () => {
    const first = line(0, "stdout", "F", "old");
    await writeFile(file, first);
    const offset = (await stat(file)).size;
    let finished = false;
    let wake: (() => void) | undefined;
    let unsubscribed = false;
    const gen = followLog(file, offset, ALL, () => finished, new AbortController().signal, (w) => {
      wake = w;
      return () => {
        unsubscribed = true;
      };
    });
    const result = collect(gen);
    await appendFile(file, line(1, "stdout", "F", "new1") + line(2, "stderr", "F", "new2"));
    finished = true;
    expect(wake).toBeTypeOf("function");
    wake!();
    const entries = await result;
    expect(entries.map((e) => [e.stream, e.text])).toEqual([
      ["stdout", "new1\n"],
      ["stderr", "new2\n"],
    ]);
    expect(unsubscribed).toBe(true);
  });

  it("applies the stream filter while following", async () => {
    await writeFile(file, "");
    let finished = false;
    let wake: (() => void) | undefined;
    const result = collect(
      followLog(file, 0, { ...ALL, stdout: false }, () => finished, new AbortController().signal, (w) => {
        wake = w;
        return () => {};
      }),
    );
    await appendFile(file, line(1, "stdout", "F", "out") + line(2, "stderr", "F", "err"));
    finished = true;
    wake!();
    expect(texts(await result)).toEqual(["err\n"]);
  });

  it("drains what is already in the file when done() is true from the start", async () => {
    await writeFile(file, line(0, "stdout", "F", "a") + line(1, "stdout", "F", "b"));
    const entries = await collect(followLog(file, 0, ALL, () => true, new AbortController().signal));
    expect(texts(entries)).toEqual(["a\n", "b\n"]);
  });

  it("starts from the offset, not from the beginning", async () => {
    const a = line(0, "stdout", "F", "a");
    await writeFile(file, a + line(1, "stdout", "F", "b"));
    const entries = await collect(followLog(file, Buffer.byteLength(a), ALL, () => true, new AbortController().signal));
    expect(texts(entries)).toEqual(["b\n"]);
  });

  it("joins partial lines appended in pieces and flushes an unfinished one at the end", async () => {
    await writeFile(file, "");
    let finished = false;
    let wake: (() => void) | undefined;
    const result = collect(
      followLog(file, 0, ALL, () => finished, new AbortController().signal, (w) => {
        wake = w;
        return () => {};
      }),
    );
    const joined = line(0, "stdout", "P", "ab") + line(1, "stdout", "F", "cd");
    await appendFile(file, joined.slice(0, 30));
    await appendFile(file, joined.slice(30));
    await appendFile(file, line(2, "stderr", "P", "unfinished"));
    finished = true;
    wake!();
    const entries = await result;
    expect(entries.map((e) => [e.stream, e.text])).toEqual([
      ["stdout", "abcd\n"],
      ["stderr", "unfinished"],
    ]);
  });

  it("waits for a file that does not exist yet", async () => {
    let finished = false;
    let wake: (() => void) | undefined;
    const result = collect(
      followLog(file, 0, ALL, () => finished, new AbortController().signal, (w) => {
        wake = w;
        return () => {};
      }),
    );
    await writeFile(file, line(0, "stdout", "F", "late"));
    finished = true;
    wake!();
    expect(texts(await result)).toEqual(["late\n"]);
  });

  it("ends when the signal aborts, even though done() stays false", async () => {
    await writeFile(file, "");
    const abort = new AbortController();
    let unsubscribed = false;
    const result = collect(
      followLog(file, 0, ALL, () => false, abort.signal, () => () => {
        unsubscribed = true;
      }),
    );
    abort.abort();
    expect(await result).toEqual([]);
    expect(unsubscribed).toBe(true);
  });

  it("yields nothing when the signal is already aborted", async () => {
    await writeFile(file, line(0, "stdout", "F", "a"));
    const abort = new AbortController();
    abort.abort();
    expect(await collect(followLog(file, 0, ALL, () => false, abort.signal))).toEqual([]);
  });

  it("stops cleanly when the consumer breaks out of the loop", async () => {
    await writeFile(file, line(0, "stdout", "F", "a") + line(1, "stdout", "F", "b"));
    let unsubscribed = false;
    const seen: string[] = [];
    for await (const e of followLog(file, 0, ALL, () => false, new AbortController().signal, () => () => {
      unsubscribed = true;
    })) {
      seen.push(e.text);
      break;
    }
    expect(seen).toEqual(["a\n"]);
    expect(unsubscribed).toBe(true);
  });
});

describe("readLog then followLog (docker logs -f)", () => {
  it("keeps a multi-byte character cut by the read boundary whole", async () => {
    // Pad so that "é" (2 bytes) straddles byte 262144.
    const prefix = line(0, "stdout", "F", "");
    const padding = 262144 - Buffer.byteLength(prefix) - 1;
    await writeFile(file, prefix.replace(/\n$/, "") + "x".repeat(padding) + "é\n");
    const { entries } = await readLog(file, ALL);
    expect(entries.at(-1)!.text.endsWith("é\n")).toBe(true);
  });

  it("a partial (P) line left by readLog is finished by followLog", async () => {
    await writeFile(file, line(0, "stdout", "P", "hello "));
    const { entries, offset, parser } = await readLog(file, ALL);
    expect(entries).toEqual([]);
    await appendFile(file, line(1, "stdout", "F", "world"));
    let finished = false;
    const follower = followLog(file, offset, ALL, () => finished, new AbortController().signal, undefined, parser);
    const first = await follower.next();
    finished = true;
    expect((first.value as LogEntry).text).toBe("hello world\n");
    await follower.return(undefined);
  });

  it("a line caught half-written by readLog is not lost", async () => {
    const whole = line(0, "stdout", "F", "first");
    const second = line(1, "stdout", "F", "second");
    await writeFile(file, whole + second.slice(0, 10));
    const { entries, offset, parser } = await readLog(file, ALL);
    expect(texts(entries)).toEqual(["first\n"]);
    await appendFile(file, second.slice(10));
    let finished = false;
    const follower = followLog(file, offset, ALL, () => finished, new AbortController().signal, undefined, parser);
    const next = await follower.next();
    finished = true;
    expect((next.value as LogEntry).text).toBe("second\n");
    await follower.return(undefined);
  });
});

describe("since/until at nanosecond precision", () => {
  it("parses Docker's seconds.nanoseconds and RFC 3339 bounds exactly", async () => {
    expect(parseTimeBound("1735787045.123456789")).toBe(1735787045123456789n);
    expect(parseTimeBound("1735787045")).toBe(1735787045000000000n);
    expect(parseTimeBound("2025-01-02T03:04:05.123456789Z")).toBe(BigInt(T0) * 1_000_000_000n + 123_456_789n);
    expect(parseTimeBound("yesterday-ish")).toBeNull();
    expect(timeToNanos(at(0))).toBe(BigInt(T0) * 1_000_000_000n + 123_456_789n);
  });

  it("an entry exactly at since is kept, one a nanosecond earlier is not", async () => {
    await writeFile(file, line(0, "stdout", "F", "a") + line(1, "stdout", "F", "b") + line(2, "stdout", "F", "c"));
    const at1 = BigInt(T0 + 1) * 1_000_000_000n + 123_456_789n;
    expect(texts((await readLog(file, { ...ALL, sinceNs: at1 })).entries)).toEqual(["b\n", "c\n"]);
    expect(texts((await readLog(file, { ...ALL, sinceNs: at1 + 1n })).entries)).toEqual(["c\n"]);
    expect(texts((await readLog(file, { ...ALL, untilNs: at1 })).entries)).toEqual(["a\n", "b\n"]);
  });
});
