import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { demux, jsonLines, type LogFrame } from "../../../server/fleet/agent/streams";

/** One Docker multiplexed frame: [stream, 0, 0, 0, size BE u32] + payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** The bytes cut into pieces of `size` (the last may be shorter). */
function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe("fleet/agent/streams", () => {
  describe("demux", () => {
    const frames: LogFrame[] = [
      { stream: "stdout", text: "hello\n" },
      { stream: "stderr", text: "oops: ünïcødé ✓\n" },
      { stream: "stdout", text: "" },
      { stream: "stdout", text: "x".repeat(300) },
      { stream: "stderr", text: "last" },
    ];
    const bytes = Buffer.concat(frames.map((f) => frame(f.stream === "stderr" ? 2 : 1, f.text)));

    it("splits frames delivered whole", async () => {
      expect(await collect(demux(Readable.from([bytes]), false))).toEqual(frames);
    });

    it("splits frames cut at any chunk boundary", async () => {
      for (const size of [1, 2, 3, 5, 7, 8, 9, 13, 64, 255]) {
        expect(await collect(demux(Readable.from(chunks(bytes, size)), false))).toEqual(frames);
      }
    });

    it("handles irregular chunks that straddle headers", async () => {
      const cuts = [3, 11, 12, 30, 31, 32, 40, 200, 301];
      const parts: Buffer[] = [];
      let start = 0;
      for (const end of [...cuts, bytes.length]) {
        parts.push(bytes.subarray(start, end));
        start = end;
      }
      expect(await collect(demux(Readable.from(parts), false))).toEqual(frames);
    });

    it("drops an incomplete trailing frame", async () => {
      const partial = Buffer.concat([frame(1, "whole"), frame(2, "cut off").subarray(0, 10)]);
      expect(await collect(demux(Readable.from([partial]), false))).toEqual([{ stream: "stdout", text: "whole" }]);
    });

    it("passes a TTY stream through as stdout", async () => {
      const out = await collect(demux(Readable.from([Buffer.from("$ ls\r\n"), Buffer.from("a  b\r\n")]), true));
      expect(out).toEqual([
        { stream: "stdout", text: "$ ls\r\n" },
        { stream: "stdout", text: "a  b\r\n" },
      ]);
    });

    it("keeps TTY text intact when a chunk splits a multi-byte character", async () => {
      const bytes = Buffer.from("héllo ✓ wörld", "utf8");
      for (const size of [1, 2, 3, 4]) {
        const out = await collect(demux(Readable.from(chunks(bytes, size)), true));
        expect(out.every((f) => f.stream === "stdout")).toBe(true);
        expect(out.map((f) => f.text).join("")).toBe("héllo ✓ wörld");
      }
    });
  });

  describe("jsonLines", () => {
    const values = [{ status: "Pulling" }, { status: "Downloading", progressDetail: { current: 1, total: 2 } }, { error: "dénied ✗" }];
    const text = values.map((v) => JSON.stringify(v)).join("\n");

    it("yields one value per line, including a last line without newline", async () => {
      expect(await collect(jsonLines(Readable.from([Buffer.from(text)])))).toEqual(values);
      expect(await collect(jsonLines(Readable.from([Buffer.from(`${text}\n`)])))).toEqual(values);
    });

    it("joins lines cut at any chunk boundary", async () => {
      const bytes = Buffer.from(`${text}\n`);
      for (const size of [1, 2, 3, 5, 17, 64]) {
        expect(await collect(jsonLines(Readable.from(chunks(bytes, size))))).toEqual(values);
        expect(await collect(jsonLines(Readable.from(chunks(Buffer.from(text), size))))).toEqual(values);
      }
    });

    it("skips blank lines and tolerates CRLF", async () => {
      const bytes = Buffer.from(`\n${JSON.stringify(values[0])}\r\n\r\n  \n${JSON.stringify(values[1])}\r\n`);
      expect(await collect(jsonLines(Readable.from(chunks(bytes, 4))))).toEqual(values.slice(0, 2));
    });

    it("yields nothing for an empty stream", async () => {
      expect(await collect(jsonLines(Readable.from([])))).toEqual([]);
    });

    it("throws on a line that is not JSON", async () => {
      await expect(collect(jsonLines(Readable.from([Buffer.from('{"ok":1}\nnot json\n')])))).rejects.toThrow(SyntaxError);
    });
  });
});
