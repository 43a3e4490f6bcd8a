import { readFile } from "node:fs/promises";
import { SpecError } from "./spec-error";

// rlimits: Docker's --ulimit names and defaults (nofile 1024/524288), each
// hard limit capped at the host's, and the host's own limits read from
// /proc/self/limits.

/** Linux rlimit type names as in runtime-spec ("RLIMIT_NOFILE", ...). */
export type RlimitType =
  | "RLIMIT_AS"
  | "RLIMIT_CORE"
  | "RLIMIT_CPU"
  | "RLIMIT_DATA"
  | "RLIMIT_FSIZE"
  | "RLIMIT_LOCKS"
  | "RLIMIT_MEMLOCK"
  | "RLIMIT_MSGQUEUE"
  | "RLIMIT_NICE"
  | "RLIMIT_NOFILE"
  | "RLIMIT_NPROC"
  | "RLIMIT_RSS"
  | "RLIMIT_RTPRIO"
  | "RLIMIT_RTTIME"
  | "RLIMIT_SIGPENDING"
  | "RLIMIT_STACK";

/**
 * Stands for RLIM_INFINITY in rlimit values. JSON numbers can't carry
 * 2^64-1 exactly, so write specs with specToJson(), which emits
 * 18446744073709551615 in its place.
 */
export const RLIM_INFINITY = -1;

/** Docker's --ulimit: name as "nofile" (or "RLIMIT_NOFILE"); -1 means unlimited. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** The host's limits, keyed by rlimit type; -1 (RLIM_INFINITY) means unlimited. */
export type HostLimits = Partial<Record<RlimitType, { soft: number; hard: number }>>;

export interface OciRlimit {
  type: RlimitType;
  /** -1 = RLIM_INFINITY (see specToJson) */
  hard: number;
  /** -1 = RLIM_INFINITY (see specToJson) */
  soft: number;
}

const DEFAULT_NOFILE = { soft: 1024, hard: 524288 };

const ULIMIT_NAMES: Record<string, RlimitType> = {
  as: "RLIMIT_AS",
  core: "RLIMIT_CORE",
  cpu: "RLIMIT_CPU",
  data: "RLIMIT_DATA",
  fsize: "RLIMIT_FSIZE",
  locks: "RLIMIT_LOCKS",
  memlock: "RLIMIT_MEMLOCK",
  msgqueue: "RLIMIT_MSGQUEUE",
  nice: "RLIMIT_NICE",
  nofile: "RLIMIT_NOFILE",
  nproc: "RLIMIT_NPROC",
  rss: "RLIMIT_RSS",
  rtprio: "RLIMIT_RTPRIO",
  rttime: "RLIMIT_RTTIME",
  sigpending: "RLIMIT_SIGPENDING",
  stack: "RLIMIT_STACK",
};

function rlimitType(name: string): RlimitType {
  let n = name.trim().toLowerCase();
  if (n.startsWith("rlimit_")) n = n.slice("rlimit_".length);
  const type = ULIMIT_NAMES[n];
  if (!type) throw new SpecError(`invalid ulimit type: ${name}`);
  return type;
}

/** a <= b where -1 is infinity */
const rlimLE = (a: number, b: number): boolean => b === RLIM_INFINITY || (a !== RLIM_INFINITY && a <= b);
const rlimMin = (a: number, b: number): number => (rlimLE(a, b) ? a : b);

function checkRlimitValue(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < -1) {
    throw new SpecError(`invalid ulimit value for ${name}: ${v} (use a non-negative integer, or -1 for unlimited)`);
  }
}

/**
 * The container's rlimits: RLIMIT_NOFILE 1024/524288 unless the user set
 * nofile, then the user's ulimits; every hard limit is capped at the host's
 * hard limit and every soft limit at the resulting hard limit.
 */
export function buildRlimits(ulimits: Ulimit[], hostLimits: HostLimits): OciRlimit[] {
  const byType = new Map<RlimitType, { soft: number; hard: number }>();
  byType.set("RLIMIT_NOFILE", { ...DEFAULT_NOFILE });
  for (const u of ulimits) {
    const type = rlimitType(u.name);
    checkRlimitValue(u.name, u.soft);
    checkRlimitValue(u.name, u.hard);
    if (!rlimLE(u.soft, u.hard)) {
      throw new SpecError(`ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    }
    byType.set(type, { soft: u.soft, hard: u.hard });
  }
  const out: OciRlimit[] = [];
  for (const [type, { soft, hard }] of byType) {
    const host = hostLimits[type];
    const h = host ? rlimMin(hard, host.hard) : hard;
    out.push({ type, hard: h, soft: rlimMin(soft, h) });
  }
  return out;
}

const LIMITS_NAMES: Record<string, RlimitType> = {
  "Max cpu time": "RLIMIT_CPU",
  "Max file size": "RLIMIT_FSIZE",
  "Max data size": "RLIMIT_DATA",
  "Max stack size": "RLIMIT_STACK",
  "Max core file size": "RLIMIT_CORE",
  "Max resident set": "RLIMIT_RSS",
  "Max processes": "RLIMIT_NPROC",
  "Max open files": "RLIMIT_NOFILE",
  "Max locked memory": "RLIMIT_MEMLOCK",
  "Max address space": "RLIMIT_AS",
  "Max file locks": "RLIMIT_LOCKS",
  "Max pending signals": "RLIMIT_SIGPENDING",
  "Max msgqueue size": "RLIMIT_MSGQUEUE",
  "Max nice priority": "RLIMIT_NICE",
  "Max realtime priority": "RLIMIT_RTPRIO",
  "Max realtime timeout": "RLIMIT_RTTIME",
};

/** Parses the text of /proc/<pid>/limits. */
export function parseHostLimits(text: string): HostLimits {
  const out: HostLimits = {};
  const value = (s: string): number => (s === "unlimited" ? RLIM_INFINITY : Number(s));
  for (const line of text.split("\n")) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const type = LIMITS_NAMES[m[1]];
    if (!type) continue;
    const soft = value(m[2]);
    const hard = value(m[3]);
    if (Number.isSafeInteger(soft) && Number.isSafeInteger(hard)) out[type] = { soft, hard };
  }
  return out;
}

/** This process's limits (/proc/self/limits); -1 = unlimited. */
export async function readHostLimits(): Promise<HostLimits> {
  return parseHostLimits(await readFile("/proc/self/limits", "utf8"));
}
