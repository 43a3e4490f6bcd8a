import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

// How many bytes a directory tree holds, as dockerd's pkg/directory.Size
// counts them for `system df` and prune reports: the sizes of everything but
// directories, each hard-linked file once. Symlinks are not followed. A tree
// that changes underneath (a running container's upper dir) is counted as
// found: what vanishes midway is skipped.

export async function directorySize(root: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const p = path.join(dir, name);
      const st = await lstat(p).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) {
        pending.push(p);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  }
  return total;
}
