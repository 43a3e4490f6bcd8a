import { lstat, readlink } from "node:fs/promises";
import path from "node:path";

// Resolving a layer path inside the snapshot root as if the root were "/".
//
// Docker extracts layers in a chroot'ed child process so the kernel confines
// every path. We resolve paths ourselves instead, the approach of Go's
// github.com/cyphar/filepath-securejoin (used by containerd and runc): walk
// the path one component at a time; ".." never goes above the root; an
// absolute path, or an absolute symlink target, restarts at the root; every
// symlink met on the way is expanded and its target resolved by the same
// rules, so no component can lead outside. No re-exec, no chroot, works for
// an unprivileged caller too.
//
// The known weakness of resolve-then-open is a race: someone swapping a
// directory for a symlink between the check and the use. Extraction has a
// single writer (applyLayer, one entry at a time, into a fresh directory
// nobody else writes to), and the only changes between resolution and use are
// the ones the layer itself makes, in order, each resolved anew; so nothing can
// swap a component under us.

/** Symlink expansions allowed while resolving one path; the kernel's limit is 40, securejoin's 255. */
export const MAX_SYMLINK_EXPANSIONS = 255;

/**
 * The kernel's ELOOP, raised by us: shaped like the fs error it stands for
 * (code "ELOOP"), so callers treat it as they treat fs errors. Not an
 * AgentError: whoever resolves paths for a request says what the loop means
 * (apply-layer: an unsafe layer; resolve-user: a bad /etc/passwd).
 */
export class SymlinkLoopError extends Error {
  readonly code = "ELOOP";
  constructor(unsafePath: string) {
    super(`too many levels of symbolic links resolving "${unsafePath}" (more than ${MAX_SYMLINK_EXPANSIONS})`);
    this.name = "SymlinkLoopError";
  }
}

export interface ResolveOptions {
  /**
   * Follow a symlink in the last component too. Off by default: extraction
   * creates or replaces the last component itself (and a hardlink to a
   * symlink links the symlink), so only the components leading to it matter.
   */
  followFinal?: boolean;
}

/**
 * Returns the absolute host path that `unsafePath` names when `root` is the
 * root directory. The result is always `root` or below it. Components that
 * don't exist (yet) are taken literally.
 */
export async function resolveInRoot(root: string, unsafePath: string, options: ResolveOptions = {}): Promise<string> {
  const base = path.resolve(root);
  const resolved: string[] = [];
  const pending = components(unsafePath);
  let expansions = 0;

  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const isLast = pending.length === 0;
    if (isLast && !options.followFinal) {
      resolved.push(part);
      break;
    }
    const target = await symlinkTarget(path.join(base, ...resolved, part));
    if (target === null) {
      resolved.push(part);
      continue;
    }
    if (++expansions > MAX_SYMLINK_EXPANSIONS) throw new SymlinkLoopError(unsafePath);
    if (path.posix.isAbsolute(target)) resolved.length = 0;
    pending.unshift(...components(target));
  }
  return path.join(base, ...resolved);
}

/** The target of `p` if it is a symlink, else null (also when it doesn't exist). */
async function symlinkTarget(p: string): Promise<string | null> {
  try {
    const stat = await lstat(p);
    return stat.isSymbolicLink() ? await readlink(p) : null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Missing, or below a non-directory: the caller's create will report it.
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw err;
  }
}

/** Path components, without empty ones and "."; ".." is kept for the walk to clamp. */
function components(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}
