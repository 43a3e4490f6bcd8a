import { InputError } from "../errors";

/** A mount the request describes wrongly (dockerd's wording). */
export class MountError extends InputError {
  readonly code = "INVALID" as const;
  constructor(message: string) {
    super(message);
    this.name = "MountError";
  }
}

/** POSIX path normalisation as Go's path.Clean and node's path.posix.normalize do it (this runs in the browser too). */
export function normalisePath(p: string): string {
  if (p === "") return ".";
  const absolute = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else out.push(part);
  }
  const joined = (absolute ? "/" : "") + out.join("/");
  const trailing = p.endsWith("/") && joined !== "/" && joined !== "" ? "/" : "";
  return (joined || (absolute ? "/" : ".")) + trailing;
}

// A container's mounts, from the three ways Docker takes them: Binds
// ("src:dst[:opts]"), Mounts ([{Type, Source, Target, ReadOnly, …}]) and
// Tmpfs ({dst: opts}), plus the image's VOLUMEs. Kept in the container record.

export interface MountSpec {
  type: "bind" | "volume" | "tmpfs";
  /** Host path for bind, volume name for volume (empty until an anonymous one is made), "" for tmpfs. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** tmpfs options (size=…, mode=…). */
  tmpfsOptions: string[];
  /** Bind only: create the host directory if it's missing (-v does, --mount doesn't). */
  createHostPath: boolean;
  /** Volume only: copy the image's content at the destination into an empty volume. */
  copyUp: boolean;
  anonymous: boolean;
  /** --volumes-from: the id of the container this mount was copied from (its volume isn't this container's to remove). */
  from?: string;
  /** A bind copied from containers created under bind allowlists: each list still holds wherever it is mounted. */
  bindPrefixes?: string[][];
}

const VALID_MODES = new Set(["ro", "rw", "z", "Z", "nocopy", "rprivate", "private", "rslave", "slave", "rshared", "shared"]);

/** Normalised, without a trailing slash ("/data/" and "/data" are one mount point). */
function cleanPath(p: string): string {
  const n = normalisePath(p);
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
}

function checkDestination(dst: string, what: string): string {
  if (!dst.startsWith("/")) throw new MountError(`invalid mount config for type "${what}": invalid mount path: '${dst}' mount path must be absolute`);
  const clean = cleanPath(dst);
  if (clean === "/") throw new MountError(`invalid mount config for type "${what}": invalid specification: destination can't be '/'`);
  return clean;
}

/** One -v / Binds entry: "name:/dst[:ro]", "/host:/dst[:ro]" or just "/dst" (anonymous). */
export function parseBind(spec: string): MountSpec {
  const parts = spec.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) throw new MountError(`invalid volume specification: '${spec}'`);
  let source = "";
  let dst: string;
  let mode = "";
  if (parts.length === 1) dst = parts[0]!;
  else if (parts.length === 2) {
    if (parts[1]!.startsWith("/")) [source, dst] = [parts[0]!, parts[1]!];
    else [dst, mode] = [parts[0]!, parts[1]!];
  } else [source, dst, mode] = [parts[0]!, parts[1]!, parts[2]!];
  const modes = mode ? mode.split(",") : [];
  for (const m of modes) if (!VALID_MODES.has(m)) throw new MountError(`invalid mode: ${m}`);
  const readOnly = modes.includes("ro");
  const isBind = source.startsWith("/");
  const type = isBind ? "bind" : "volume";
  const destination = checkDestination(dst, type);
  if (isBind) return { type, source: normalisePath(source), destination, readOnly, tmpfsOptions: [], createHostPath: true, copyUp: false, anonymous: false };
  return { type, source, destination, readOnly, tmpfsOptions: [], createHostPath: false, copyUp: !modes.includes("nocopy"), anonymous: source === "" };
}

export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  VolumeOptions?: { NoCopy?: boolean };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** One --mount / HostConfig.Mounts entry. */
export function parseApiMount(m: ApiMount): MountSpec {
  const type = m.Type ?? "volume";
  if (type !== "bind" && type !== "volume" && type !== "tmpfs") throw new MountError(`mount type "${type}" is not supported (bind, volume, tmpfs)`);
  if (!m.Target) throw new MountError(`invalid mount config for type "${type}": field Target must not be empty`);
  const destination = checkDestination(m.Target, type);
  const readOnly = Boolean(m.ReadOnly);
  if (type === "tmpfs") {
    if (m.Source) throw new MountError(`invalid mount config for type "tmpfs": field Source must not be specified`);
    const opts: string[] = [];
    if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
    if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
    return { type, source: "", destination, readOnly, tmpfsOptions: opts, createHostPath: false, copyUp: false, anonymous: false };
  }
  if (type === "bind") {
    if (!m.Source || !m.Source.startsWith("/")) throw new MountError(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ""}' mount path must be absolute`);
    return { type, source: normalisePath(m.Source), destination, readOnly, tmpfsOptions: [], createHostPath: false, copyUp: false, anonymous: false };
  }
  return { type, source: m.Source ?? "", destination, readOnly, tmpfsOptions: [], createHostPath: false, copyUp: !m.VolumeOptions?.NoCopy, anonymous: !m.Source };
}

/** Tmpfs: {"/run": "size=64m,mode=1777"}. */
export function parseTmpfs(dst: string, options: string): MountSpec {
  return { type: "tmpfs", source: "", destination: checkDestination(dst, "tmpfs"), readOnly: false, tmpfsOptions: options ? options.split(",") : [], createHostPath: false, copyUp: false, anonymous: false };
}

/** One HostConfig.VolumesFrom entry, "container[:ro|rw]" (moby's ParseVolumesFrom; z/Z are accepted and mean nothing here). */
export function parseVolumesFrom(spec: string): { container: string; readOnly: boolean } {
  if (spec === "") throw new MountError("volumes-from specification cannot be an empty string");
  const colon = spec.indexOf(":");
  const container = colon < 0 ? spec : spec.slice(0, colon);
  const mode = colon < 0 ? "" : spec.slice(colon + 1);
  const modes = mode ? mode.split(",") : [];
  let rw = 0;
  let label = 0;
  for (const m of modes) {
    if (m === "ro" || m === "rw") rw++;
    else if (m === "z" || m === "Z") label++;
    else throw new MountError(`invalid mode: ${mode}`);
  }
  if (rw > 1 || label > 1 || container === "") throw new MountError(`invalid mode: ${mode}`);
  return { container, readOnly: modes.includes("ro") };
}

/**
 * What --volumes-from copies: the source container's volumes and binds (not
 * its tmpfs mounts), at the same destinations, read-only when it asked for
 * :ro or the source's mount is. Binds keep the allowlists the source was held
 * to (its own, and those its mounts brought along).
 */
export function inheritMounts(source: { id: string; mounts: MountSpec[]; bindPrefixes?: string[] }, readOnly: boolean): MountSpec[] {
  return source.mounts
    .filter((m) => m.type !== "tmpfs")
    .map((m) => {
      const prefixes = m.type === "bind" ? [...(m.bindPrefixes ?? []), ...(source.bindPrefixes ? [source.bindPrefixes] : [])] : [];
      const copy: MountSpec = { ...m, readOnly: m.readOnly || readOnly, copyUp: false, from: m.from ?? source.id };
      delete copy.bindPrefixes;
      return prefixes.length ? { ...copy, bindPrefixes: prefixes } : copy;
    });
}

/**
 * All of a create request's mounts: what --volumes-from brought (a later one
 * replaces an earlier one at the same destination), replaced in turn by the
 * request's own Binds, Mounts and Tmpfs, then the image's VOLUMEs (only where
 * nothing else is mounted).
 */
export function collectMounts(input: { binds: string[]; mounts: ApiMount[]; tmpfs: Record<string, string>; imageVolumes: string[]; inherited?: MountSpec[] }): MountSpec[] {
  const out: MountSpec[] = [];
  const replace = (m: MountSpec) => {
    const at = out.findIndex((o) => o.destination === m.destination);
    if (at >= 0) out.splice(at, 1);
    out.push(m);
  };
  for (const m of input.inherited ?? []) replace(m);
  const own = new Set<string>();
  const add = (m: MountSpec) => {
    if (own.has(m.destination)) throw new MountError(`Duplicate mount point: ${m.destination}`);
    own.add(m.destination);
    replace(m);
  };
  for (const b of input.binds) add(parseBind(b));
  for (const m of input.mounts) add(parseApiMount(m));
  for (const [dst, opts] of Object.entries(input.tmpfs)) add(parseTmpfs(dst, opts));
  for (const v of input.imageVolumes) {
    const dst = checkDestination(v, "volume");
    if (!out.some((o) => o.destination === dst)) out.push({ type: "volume", source: "", destination: dst, readOnly: false, tmpfsOptions: [], createHostPath: false, copyUp: true, anonymous: true });
  }
  return out;
}
