import type { Duplex, Writable } from "node:stream";

// A client's input → a process's stdin (docker attach -i, docker exec -i).
// Backpressure both ways: the client is paused while stdin is busy, or,
// before there is a stdin to write to, while 1 MiB waits for it (`docker run
// -i` attaches before the container starts). The client's end ends stdin.

const HELD_MAX = 1024 * 1024;

export class StdinRelay {
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private ended = false;
  private stdin: Writable | null = null;

  /** `head`: input that arrived with the request, ahead of what follows on `client`. */
  constructor(
    private readonly client: Duplex,
    head: Buffer | null,
  ) {
    if (head?.length) this.hold(Buffer.from(head));
    client.on("data", (d: Buffer) => this.onData(d));
    client.on("end", () => {
      this.ended = true;
      this.stdin?.end();
    });
    // Reading a request body leaves the socket paused: without this, stdin would be dead.
    client.resume();
  }

  /** Starts writing to `stdin`: what was held first. */
  connect(stdin: Writable): void {
    if (this.stdin) return;
    this.stdin = stdin;
    for (const d of this.held.splice(0)) stdin.write(d);
    this.heldBytes = 0;
    this.client.resume();
    if (this.ended) stdin.end();
  }

  private onData(d: Buffer): void {
    const stdin = this.stdin;
    if (!stdin) return this.hold(d);
    if (!stdin.write(d)) {
      this.client.pause();
      stdin.once("drain", () => this.client.resume());
    }
  }

  private hold(d: Buffer): void {
    this.held.push(d);
    this.heldBytes += d.length;
    if (this.heldBytes > HELD_MAX) this.client.pause();
  }
}
