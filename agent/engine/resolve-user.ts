import { constants as fsConstants } from "node:fs";
import { open } from "node:fs/promises";
import { AgentError } from "../errors";
import { resolveInRoot, SymlinkLoopError } from "../snapshots/secure-path";

// Resolving a container's user spec to ids, as runc's (moby/sys/user)
// GetExecUser does for dockerd: against the container's own /etc/passwd and
// /etc/group, read from inside its root filesystem with every symlink
// resolved within that root.

export interface ResolvedUser {
  uid: number;
  gid: number;
  /**
   * The process's supplementary groups as dockerd sets them
   * (daemon/oci_linux.go getUser): the primary gid first, then the groups
   * listing the user by name (only when the group was not given explicitly),
   * then the HostConfig.GroupAdd groups.
   */
  additionalGids: number[];
  /** Home directory from the passwd entry, if one matched. */
  home?: string;
}

export class UserResolveError extends AgentError<"INVALID"> {
  override name = "UserResolveError";
  constructor(message: string) {
    super("INVALID", message);
  }
}

/** Largest passwd/group file read; a bigger one is refused, not loaded. */
export const MAX_ID_FILE_BYTES = 1024 * 1024;
const MAX_ID = 2147483647;
const RANGE_ERROR = `uids and gids must be in range 0-${MAX_ID}`;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * Reads `<rootfs>/<file>` with symlinks resolved inside rootfs. Returns null if
 * it doesn't exist or isn't a regular file (a FIFO or device is never opened
 * for reading: O_NONBLOCK on open, then fstat).
 */
async function readIdFile(rootfs: string, file: string): Promise<string | null> {
  const hostPath = await resolveInRoot(rootfs, file, { followFinal: true }).catch((e: unknown) => {
    // A symlink loop in the image's own files: the image's fault, said as such.
    if (e instanceof SymlinkLoopError) throw new UserResolveError(`cannot read ${file} in the container: ${e.message}`);
    throw e;
  });
  let handle;
  try {
    handle = await open(hostPath, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return null;
    if (stat.size > MAX_ID_FILE_BYTES) {
      throw new UserResolveError(`${file} in the container is too large (${stat.size} bytes, limit ${MAX_ID_FILE_BYTES})`);
    }
    const buf = Buffer.alloc(MAX_ID_FILE_BYTES + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_ID_FILE_BYTES) {
      throw new UserResolveError(`${file} in the container is too large (limit ${MAX_ID_FILE_BYTES} bytes)`);
    }
    return buf.subarray(0, length).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** Go's strconv.Atoi, as far as it matters here: an optional sign and decimal digits. */
function atoi(s: string): number | null {
  if (!/^[+-]?\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** A numeric passwd/group field; runc ignores parse errors (value 0). */
const field = (s: string | undefined): number => atoi(s ?? "") ?? 0;

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((l) => {
    const p = l.split(":");
    return { name: p[0] ?? "", uid: field(p[2]), gid: field(p[3]), home: p[5] ?? "" };
  });
}

function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((l) => {
    const p = l.split(":");
    return { name: p[0] ?? "", gid: field(p[2]), members: p[3] ? p[3].split(",") : [] };
  });
}

function inRange(id: number): number {
  if (id < 0 || id > MAX_ID) throw new UserResolveError(RANGE_ERROR);
  return id;
}

/**
 * Resolves `user` ("" | name | uid | name:group | uid:gid | name:gid |
 * uid:group) against `rootfs`/etc/passwd and /etc/group:
 * - "" is uid 0 (its passwd entry, if any, gives gid and supplementary groups);
 * - a number is a uid even if passwd has no such entry (gid then 0, unless given);
 * - a name must be in passwd: `unable to find user NAME: no matching entries in passwd file`;
 * - a group name must be in group: `unable to find group NAME: no matching entries in group file`;
 * - supplementary groups (groups listing the user's name) apply only when no group was given.
 * `groupAdd` (HostConfig.GroupAdd) adds groups by name or number.
 */
export async function resolveUser(rootfs: string, user: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  // moby/sys/user parseLine: fields split on ":", extra ones ignored.
  const [userArg = "", groupArg = ""] = user.split(":");
  const uidArg = atoi(userArg);
  const gidArg = atoi(groupArg);

  const passwdText = await readIdFile(rootfs, "/etc/passwd");
  const passwd = passwdText === null ? [] : parsePasswd(passwdText);

  let uid = 0;
  let gid = 0;
  let home: string | undefined;
  let matchedName = "";
  const match = passwd.find((u) => (userArg === "" ? u.uid === 0 : uidArg !== null ? u.uid === uidArg : u.name === userArg));
  if (match) {
    matchedName = match.name;
    uid = match.uid;
    gid = match.gid;
    home = match.home;
  } else if (userArg !== "") {
    if (uidArg === null) throw new UserResolveError(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = inRange(uidArg);
  }

  let supplementary: number[] = [];
  let group: GroupEntry[] | null = null;
  const loadGroups = async () => {
    if (group === null) {
      const text = await readIdFile(rootfs, "/etc/group");
      group = text === null ? [] : parseGroup(text);
    }
    return group;
  };

  if (groupArg !== "") {
    const groups = await loadGroups();
    const g = groups.find((e) => (gidArg !== null ? e.gid === gidArg : e.name === groupArg));
    if (g) gid = g.gid;
    else if (gidArg === null) throw new UserResolveError(`unable to find group ${groupArg}: no matching entries in group file`);
    else gid = inRange(gidArg);
  } else if (matchedName !== "") {
    const groups = await loadGroups();
    supplementary = groups.filter((e) => e.members.includes(matchedName)).map((e) => e.gid);
  }

  // moby/sys/user GetAdditionalGroups: each by name or, failing that, as a number.
  const added: number[] = [];
  for (const spec of groupAdd) {
    const groups = await loadGroups();
    const n = atoi(spec);
    const g = groups.find((e) => e.name === spec || (n !== null && e.gid === n));
    if (g) added.push(g.gid);
    else if (n === null) throw new UserResolveError(`Unable to find group ${spec}: no matching entries in group file`);
    else added.push(inRange(n));
  }

  return { uid, gid, additionalGids: [gid, ...supplementary, ...added], ...(home !== undefined ? { home } : {}) };
}
