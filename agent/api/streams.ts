// Docker's multiplexed stream framing (non-TTY attach, exec and logs):
// an 8-byte header [stream, 0, 0, 0, size uint32 BE] then the payload.
// 0 stdin, 1 stdout, 2 stderr, 3 system error.

export const STDOUT = 1;
export const STDERR = 2;
export const SYSERR = 3;

export function frame(stream: number, payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

export const MUX_TYPE = "application/vnd.docker.multiplexed-stream";
export const RAW_TYPE = "application/vnd.docker.raw-stream";
