// Paths into a compose document ("services.web.ports[0]") as StackProblem
// reports them, and the source files' paths as a stack's files name them.

export type PathSegment = string | number;

/** `["services", "web", "ports", 0]` → "services.web.ports[0]"; keys with dots or brackets are quoted: labels["a.b"]. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * A relative file path of the stack, resolved against `base` (a directory,
 * "" for the root): "./a/../b.env" → "b.env". Null when it is absolute or
 * climbs out of the stack's root with "..".
 */
export function resolveStackPath(base: string, relative: string): string | null {
  if (relative.startsWith("/") || /^[A-Za-z]:[\\/]/.test(relative)) return null;
  const parts = base ? base.split("/").filter(Boolean) : [];
  for (const part of relative.replace(/\\/g, "/").split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join("/") : null;
}

/** The directory part of a stack file's path ("" at the root). */
export function dirOf(file: string): string {
  const i = file.lastIndexOf("/");
  return i < 0 ? "" : file.slice(0, i);
}
