import type { BigIntStats } from "node:fs";
import { normalisePath } from "../../lib/docker/mounts";

// The X-Docker-Container-Path-Stat header of docker cp: base64 of the JSON
// of Go's types.ContainerPathStat, whose mode is a Go os.FileMode (the type
// in high bits, not the Unix S_IFMT field) and whose mtime is a Go time in
// RFC 3339 with nanoseconds. The docker CLI decodes it to decide how to copy.

export const PATH_STAT_HEADER = "X-Docker-Container-Path-Stat";

export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

// Go's io/fs mode bits.
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
} as const;

const S_IFMT = 0o170000;

/** A Unix st_mode as Go's os.FileMode (os/stat_linux.go fillFileStatFromSys). */
export function goFileMode(unixMode: number): number {
  let mode = unixMode & 0o777;
  switch (unixMode & S_IFMT) {
    case 0o060000:
      mode += GO_MODE.device;
      break;
    case 0o020000:
      mode += GO_MODE.device + GO_MODE.charDevice;
      break;
    case 0o040000:
      mode += GO_MODE.dir;
      break;
    case 0o010000:
      mode += GO_MODE.namedPipe;
      break;
    case 0o120000:
      mode += GO_MODE.symlink;
      break;
    case 0o140000:
      mode += GO_MODE.socket;
      break;
  }
  if (unixMode & 0o2000) mode += GO_MODE.setgid;
  if (unixMode & 0o4000) mode += GO_MODE.setuid;
  if (unixMode & 0o1000) mode += GO_MODE.sticky;
  return mode;
}

/** Go's time.Time JSON form (RFC3339Nano, UTC): fraction without trailing zeros, none when zero. */
export function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const fraction = ns - seconds * 1_000_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "");
  const digits = fraction === 0n ? "" : `.${fraction.toString().padStart(9, "0").replace(/0+$/, "")}`;
  return `${base}${digits}Z`;
}

export function pathStatOf(name: string, st: BigIntStats, linkTarget: string): ContainerPathStat {
  return { name, size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: rfc3339Nano(st.mtimeNs), linkTarget };
}

/** The header's value: base64 (standard alphabet) of the JSON, as dockerd's setContainerPathStatHeader writes it. */
export function encodePathStat(stat: ContainerPathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString("base64");
}

/**
 * Go's filepath.Base: the last element, trailing slashes dropped; "/" for
 * the root ("/srv/" → "srv", "/srv/." → ".", "/" → "/").
 */
export function goBase(p: string): string {
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return p.startsWith("/") ? "/" : ".";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * The path as dockerd takes it: absolute and cleaned, but keeping a trailing
 * "/" or "/." (archive.PreserveTrailingDotOrSeparator), which ask for a
 * directory's contents and make a final symlink be followed.
 */
export function containerAbsPath(p: string): string {
  const cleaned = normalisePath(`/${p}`).replace(/(.)\/$/, "$1");
  if (p === "." || p.endsWith("/.")) return cleaned === "/" ? "/." : `${cleaned}/.`;
  if (p.endsWith("/") && cleaned !== "/") return `${cleaned}/`;
  return cleaned;
}
