import { isInputError } from "../../lib/errors";
import { AgentError } from "../errors";
import type { ProgressEvent } from "../images/progress";
import { USAGE } from "./usage";

// What the command line prints: one clear line per error (exit 1, 2 for usage
// errors), progress as lines or JSON lines, sizes as docker prints them.

export function fail(message: string, code = 1): never {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(code);
}

/** The last word on an error that ended a command. Users get its message; the stack only with BERTH_DEBUG. */
export function failWith(e: unknown): never {
  if (e instanceof AgentError || isInputError(e)) fail(e.message);
  if (e instanceof TypeError && /ERR_PARSE_ARGS/.test(String((e as NodeJS.ErrnoException).code))) fail(`${e.message}\n\n${USAGE}`, 2);
  fail(e instanceof Error ? (process.env.BERTH_DEBUG ? (e.stack ?? e.message) : e.message) : String(e));
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

export function progressPrinter(json: boolean) {
  const shown = new Map<string, string>();
  return (e: ProgressEvent) => {
    if (json) {
      process.stdout.write(JSON.stringify(e) + "\n");
      return;
    }
    const key = e.id ?? "";
    if (e.progressDetail) {
      // Byte counts only on a terminal; logs get the state changes.
      if (!process.stdout.isTTY) return;
      const { current = 0, total = 0 } = e.progressDetail;
      process.stdout.write(`\r${key}: ${e.status} ${(current / 1e6).toFixed(1)}MB/${(total / 1e6).toFixed(1)}MB   `);
      return;
    }
    if (key && shown.get(key) === e.status) return;
    shown.set(key, e.status);
    process.stdout.write(`${process.stdout.isTTY ? "\r" : ""}${key ? `${key}: ` : ""}${e.status}\n`);
  };
}

export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes}B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)}kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)}MB`;
  return `${(bytes / 1e9).toFixed(2)}GB`;
}
