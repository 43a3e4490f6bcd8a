import { execFile } from "node:child_process";
import { AgentError } from "../errors";

// Runs the host's networking tools (ip, nft, nsenter, sysctl). Errors carry the tool's own message.

/** A networking tool failed: an internal error, shown with the tool's own message. */
export class NetworkToolError extends AgentError<"INTERNAL"> {
  override name = "NetworkToolError";
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super("INTERNAL", message);
  }
}

export function tool(binary: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(binary, args, { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new NetworkToolError(`${binary} ${args.slice(0, 4).join(" ")}: ${String(stderr).trim() || err.message}`, String(stderr)));
      else resolve(String(stdout));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `ip -batch -`: several ip commands in one process. */
export function ipBatch(commands: string[], netnsPid?: number): Promise<string> {
  if (!commands.length) return Promise.resolve("");
  const input = commands.join("\n") + "\n";
  if (netnsPid === undefined) return tool("ip", ["-batch", "-"], input);
  return tool("nsenter", [`--net=/proc/${netnsPid}/ns/net`, "ip", "-batch", "-"], input);
}
