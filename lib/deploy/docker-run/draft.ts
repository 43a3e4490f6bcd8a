import type { DeploySpecInput } from "../spec";
import { quoteShellWord } from "../shell-words";

// What the parser builds while it reads the flags: the spec so far, the
// warnings, and which flag set each spec path (to name it in an error). Shared
// by the flag table, the value parsers and parseDockerRun.

export class DockerRunParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DockerRunParseError";
  }
}

export type EnvInput = NonNullable<DeploySpecInput["env"]>[number];
export type PortInput = NonNullable<DeploySpecInput["ports"]>[number];
export type MountInput = NonNullable<DeploySpecInput["mounts"]>[number];
export type DeviceInput = NonNullable<DeploySpecInput["devices"]>[number];

type ListKey = "env" | "ports" | "mounts" | "devices" | "aliases" | "capAdd" | "capDrop";
type ScalarKey = Exclude<keyof DeploySpecInput, ListKey | "labels" | "healthcheck">;

export interface Draft {
  spec: Omit<DeploySpecInput, "image"> & { image?: string };
  warnings: string[];
  /** Spec path ("env.2", "memoryBytes") → the flag and value that set it, for schema errors. */
  origins: Map<string, string>;
  health: {
    cmd?: string;
    intervalSeconds?: number;
    timeoutSeconds?: number;
    startPeriodSeconds?: number;
    retries?: number;
    none: boolean;
    /** The --health-* flags given (for the --no-healthcheck conflict and missing --health-cmd). */
    flags: string[];
  };
  aliasFlag?: string;
}

export const fail = (message: string): never => {
  throw new DockerRunParseError(message);
};

/** `-p 80-90`: the flag as typed and its value, for messages. */
export const shown = (flag: string, value: string) => `${flag} ${quoteShellWord(value)}`;

export function warn(d: Draft, message: string): void {
  if (!d.warnings.includes(message)) d.warnings.push(message);
}

export function setScalar<K extends ScalarKey>(d: Draft, key: K, value: DeploySpecInput[K], origin: string): void {
  (d.spec as Record<string, unknown>)[key] = value;
  d.origins.set(key, origin);
}

export function push<K extends ListKey>(d: Draft, key: K, item: NonNullable<DeploySpecInput[K]>[number], origin: string): void {
  const spec = d.spec as Record<string, unknown[] | undefined>;
  const list = (spec[key] ??= []);
  d.origins.set(`${key}.${list.length}`, origin);
  list.push(item);
}

/** A fresh draft for one command. */
export function newDraft(): Draft {
  return { spec: {}, warnings: [], origins: new Map(), health: { none: false, flags: [] } };
}
