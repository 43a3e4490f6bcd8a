import { randomBytes } from "node:crypto";
import { PassThrough, pipeline, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { rechunk } from "../../../agent/images/rechunk";

/** The chunks as the stream emits them ('data' events: an async iterator would merge buffered ones). */
function collect(stream: Readable): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => out.push(chunk));
    stream.once("end", () => resolve(out));
    stream.once("error", reject);
  });
}

describe("rechunk", () => {
  it("regroups small pieces into chunks of at least the size, bytes unchanged, the remainder last", async () => {
    const data = randomBytes(10_000);
    const pieces = Array.from({ length: 100 }, (_, i) => data.subarray(i * 100, i * 100 + 100));
    const chunks = await collect(Readable.from(pieces).pipe(rechunk(3_000)));
    expect(chunks.map((c) => c.length)).toEqual([3_000, 3_000, 3_000, 1_000]);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it("passes a big piece through whole and ends an empty stream with no chunk", async () => {
    const big = randomBytes(5_000);
    expect((await collect(Readable.from([big]).pipe(rechunk(1_000)))).map((c) => c.length)).toEqual([5_000]);
    expect(await collect(Readable.from([]).pipe(rechunk(1_000)))).toEqual([]);
  });

  it("in a pipeline, a source that fails mid-stream fails the regrouped stream instead of ending it short", async () => {
    const source = new PassThrough();
    const out = pipeline(source, rechunk(1 << 20), () => {});
    const done = collect(out);
    source.write(randomBytes(1_000));
    source.destroy(new Error("connection reset"));
    await expect(done).rejects.toThrow("connection reset");
  });
});
