import { execFile } from "node:child_process";
import { AgentError } from "../errors";

// Node has no mknod, mkfifo or xattr API, so these go through the standard
// tools. Only the rare entries that need them pay for a process spawn; all
// paths passed here are absolute (so never parsed as options) and already
// confined to the extraction root by the caller.

/** mknod, mkfifo or setfattr failed: the host could not make what the layer holds. */
export class CommandError extends AgentError<"INTERNAL"> {
  override name = "CommandError";
  constructor(
    readonly command: string,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super("INTERNAL", `${command} failed: ${stderr.trim() || "no error output"}`, options);
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: "utf8" }, (err, _stdout, stderr) => {
      if (err) reject(new CommandError(command, stderr || err.message, { cause: err }));
      else resolve();
    });
  });
}

export function makeDevice(file: string, kind: "char" | "block", major: number, minor: number): Promise<void> {
  return run("mknod", [file, kind === "char" ? "c" : "b", String(major), String(minor)]);
}

export function makeFifo(file: string): Promise<void> {
  return run("mkfifo", [file]);
}

/** Sets an extended attribute on `file` itself (never a symlink's target), value byte-exact. */
export function setXattr(file: string, name: string, value: Buffer): Promise<void> {
  // "0s" marks base64; setfattr rejects an empty base64 value, but takes "" as empty.
  const encoded = value.length === 0 ? "" : `0s${value.toString("base64")}`;
  return run("setfattr", ["-h", "-n", name, "-v", encoded, file]);
}

/** Whether a setfattr failure is ENOTSUP or EPERM, the two Docker tolerates (with a warning) when unpacking. */
export function isXattrUnsupported(err: unknown): boolean {
  return err instanceof CommandError && /Operation not (supported|permitted)/i.test(err.stderr);
}
