import { Transform } from "node:stream";

/**
 * Regroups a byte stream into chunks of at least `size` bytes (the last may be
 * smaller). A download arrives in socket-sized pieces of about 64 KiB; every
 * piece costs a hash update, a file write and a decompression job in each of
 * the stages after it, so a layer goes through them in megabytes instead.
 */
export function rechunk(size: number): Transform {
  let parts: Buffer[] = [];
  let held = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      held += chunk.length;
      if (held >= size) {
        this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts, held));
        parts = [];
        held = 0;
      }
      done();
    },
    flush(done) {
      if (held > 0) this.push(Buffer.concat(parts, held));
      done();
    },
  });
}
