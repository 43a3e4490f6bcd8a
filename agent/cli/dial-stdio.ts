import net from "node:net";
import { fail } from "./output";

/**
 * The gateway's fallback transport when an SSH server forbids stream-local
 * forwarding: bytes on stdin go to the agent's socket and its replies to
 * stdout, until either side closes.
 */
export function dialStdio(socketPath: string): Promise<void> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socketPath);
    conn.once("error", (e) => fail(`cannot reach the agent at ${socketPath}: ${e.message}`));
    conn.once("connect", () => {
      process.stdin.pipe(conn);
      conn.pipe(process.stdout);
    });
    // stdin closing means the gateway hung up: let the agent finish its reply, then stop.
    process.stdin.once("end", () => conn.end());
    conn.once("close", () => {
      resolve();
      process.exit(0);
    });
  });
}
