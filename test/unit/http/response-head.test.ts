import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { readResponseHead, ResponseHeadError } from "../../../server/http/response-head";

describe("readResponseHead", () => {
  it("parses the status and headers from pieces, keeps the raw head, and leaves what followed in rest", async () => {
    const stream = new PassThrough();
    const head = readResponseHead(stream, 1_000);
    stream.write("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n");
    stream.write("Connection: Upgrade\r\n\r\nfirst output");
    const got = await head;
    expect(got.status).toBe(101);
    expect(got.headers.get("content-type")).toBe("application/vnd.docker.raw-stream");
    expect(got.headers.get("connection")).toBe("Upgrade");
    expect(got.raw.toString("latin1")).toBe("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\n\r\n");
    expect(got.rest.toString()).toBe("first output");
    expect(stream.isPaused()).toBe(true);
  });

  const failures: [string, (s: PassThrough) => void, string][] = [
    ["not HTTP", (s) => s.write("SSH-2.0-OpenSSH\r\n\r\n"), "not-http"],
    ["a status line with junk after the code", (s) => s.write("HTTP/1.1 2000 OK\r\n\r\n"), "not-http"],
    ["a head over 64 KiB", (s) => s.write(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(70 * 1024)}`), "too-large"],
    ["the stream ends first", (s) => s.end("HTTP/1.1 200 OK\r\n"), "closed"],
    ["the stream fails", (s) => s.destroy(new Error("reset by peer")), "stream"],
    ["nothing arrives", () => {}, "timeout"],
  ];
  for (const [what, act, kind] of failures) {
    it(`refuses with a ResponseHeadError (${kind}) when ${what}`, async () => {
      const stream = new PassThrough();
      const head = readResponseHead(stream, 100);
      act(stream);
      const err = await head.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResponseHeadError);
      expect((err as ResponseHeadError).kind).toBe(kind);
    });
  }
});
