import "server-only";

/** A container's name as people write it: Docker lists names with a leading "/". */
export function containerName(c: { Names: string[] }): string {
  return (c.Names[0] ?? "").replace(/^\//, "");
}
