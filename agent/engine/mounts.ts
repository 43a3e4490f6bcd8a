import { readFile } from "node:fs/promises";
import path from "node:path";

/** Whether `dir` is a mount point in this process's mount namespace. */
export async function isMountPoint(dir: string): Promise<boolean> {
  const target = path.resolve(dir);
  const info = await readFile("/proc/self/mountinfo", "utf8");
  for (const line of info.split("\n")) {
    const mountPoint = line.split(" ")[4];
    if (mountPoint && unescapeMountPath(mountPoint) === target) return true;
  }
  return false;
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
