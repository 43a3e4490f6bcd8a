import "server-only";
import type { Client, ClientChannel } from "ssh2";
import { FleetError } from "../errors";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Runs a command over an exec channel and collects its output, within a deadline. */
export function execSsh(client: Client, command: string, options: { timeoutMs: number; stdin?: string }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel: ClientChannel) => {
      if (err) return reject(new FleetError("UNREACHABLE", `The host refused to run a command: ${err.message}`));
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => {
        channel.close();
        reject(new FleetError("TIMEOUT", `A command on the host did not finish within ${Math.round(options.timeoutMs / 1000)} s.`));
      }, options.timeoutMs);
      channel.on("data", (d: Buffer) => {
        if (stdout.length < MAX_OUTPUT) stdout += d.toString();
      });
      channel.stderr.on("data", (d: Buffer) => {
        if (stderr.length < MAX_OUTPUT) stderr += d.toString();
      });
      channel.once("close", (code: number | null, signal?: string) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 255), stdout, stderr });
      });
      if (options.stdin !== undefined) channel.end(options.stdin);
      else channel.end();
    });
  });
}
