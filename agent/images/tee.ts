import { PassThrough, type Readable } from "node:stream";

/** Splits a stream in two; the source goes at the pace of the slower reader. */
export function tee(source: Readable): [PassThrough, PassThrough] {
  const outs = [new PassThrough({ highWaterMark: 1 << 20 }), new PassThrough({ highWaterMark: 1 << 20 })] as const;
  let blocked = 0;
  source.on("data", (chunk: Buffer) => {
    for (const out of outs) {
      if (!out.write(chunk)) {
        blocked++;
        out.once("drain", () => {
          if (--blocked === 0) source.resume();
        });
      }
    }
    if (blocked > 0) source.pause();
  });
  source.once("end", () => outs.forEach((o) => o.end()));
  source.once("error", (e) => outs.forEach((o) => o.destroy(e)));
  // Destroyed without an error or an end: the readers must not wait forever.
  source.once("close", () => {
    if (!source.readableEnded) outs.forEach((o) => o.destroy(new Error("download stopped before the end of the blob")));
  });
  // A reader that gives up stops the download for both.
  for (const out of outs) out.once("close", () => !out.writableFinished && source.destroy());
  return [outs[0], outs[1]];
}
