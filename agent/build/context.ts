import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, readlink, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { AgentError } from "../errors";
import { applyLayer } from "../snapshots/apply-layer";
import { openLayerStream } from "../snapshots/decompress";
import { parseDockerignore } from "./dockerignore";

// The build context: a tar (the legacy /build endpoint; gzip or plain) or a
// local directory, with .dockerignore applied. Extraction goes through the
// same confined unpacker as image layers, so no entry can land outside it.

export class ContextError extends AgentError<"INVALID"> {
  override name = "ContextError";
  constructor(message: string) {
    super("INVALID", message);
  }
}

export interface BuildContext {
  root: string;
  /** Removes the extracted copy (a no-op for a directory context). */
  dispose(): Promise<void>;
}

export async function extractContext(tar: Readable, parentDir = os.tmpdir()): Promise<BuildContext> {
  const root = await mkdtemp(path.join(parentDir, "berth-build-ctx-"));
  try {
    await applyLayer(openLayerStream(tar, "build context"), root);
    await refuseSpecialFiles(root);
    await applyDockerignore(root);
  } catch (e) {
    await rm(root, { recursive: true, force: true });
    throw new ContextError(`invalid build context: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { root, dispose: () => rm(root, { recursive: true, force: true }) };
}

/** Device nodes and FIFOs have no business in a build context (copying one would open it on the host). */
async function refuseSpecialFiles(dir: string, rel = ""): Promise<void> {
  for (const name of await readdir(dir)) {
    const full = path.join(dir, name);
    const st = await lstat(full);
    const relName = rel ? `${rel}/${name}` : name;
    if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO() || st.isSocket()) {
      throw new ContextError(`the build context holds a device node, FIFO or socket (${relName}); leave it out with .dockerignore`);
    }
    if (st.isDirectory()) await refuseSpecialFiles(full, relName);
  }
}

/** Deletes what .dockerignore excludes (the Dockerfile and .dockerignore themselves stay readable). */
async function applyDockerignore(root: string): Promise<void> {
  const file = path.join(root, ".dockerignore");
  if (!existsSync(file)) return;
  const matcher = parseDockerignore(await readFile(file, "utf8"));
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const relName = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, name);
      if (relName === ".dockerignore" || relName === "Dockerfile") continue;
      if (matcher.ignores(relName)) {
        // An ignored directory may still hold re-included (!pattern) entries: look inside before removing.
        const st = await lstat(full);
        if (st.isDirectory() && matcher.patterns.some((p) => p.startsWith("!"))) {
          await walk(full, relName);
          if ((await readdir(full)).length === 0) await rm(full, { recursive: true, force: true });
        } else {
          await rm(full, { recursive: true, force: true });
        }
        continue;
      }
      if ((await lstat(full)).isDirectory()) await walk(full, relName);
    }
  };
  await walk(root, "");
}

/**
 * Resolves a COPY/ADD source inside the context. `..` that climbs out, and a
 * symlink that leads out, are refused ("forbidden path outside the build context").
 */
export async function resolveSource(root: string, source: string): Promise<string> {
  const clean = path.posix.normalize(`/${source}`);
  const candidate = path.join(root, clean);
  const rel = path.posix.normalize(source.replace(/^\/+/, ""));
  if (rel === ".." || rel.startsWith("../")) throw new ContextError(`forbidden path outside the build context: ${source}`);
  if (!existsSync(candidate)) {
    // A dangling symlink shows up as missing; say which it is.
    const st = await lstat(candidate).catch(() => null);
    if (st?.isSymbolicLink()) throw new ContextError(`forbidden path outside the build context: ${source} (a symlink to ${await readlink(candidate)})`);
    throw new ContextError(`COPY failed: file not found in build context or excluded by .dockerignore: stat ${source}: file does not exist`);
  }
  const real = await realpath(candidate);
  const realRoot = await realpath(root);
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw new ContextError(`forbidden path outside the build context: ${source} (resolves to ${real})`);
  return real;
}

/**
 * A content hash of files and directories (names, modes, bytes, symlink
 * targets; not owners or times): the COPY cache key. `labels` name the
 * sources as the Dockerfile did, so where the context was extracted doesn't matter.
 */
export async function hashSources(paths: string[], labels: string[] = paths.map((p) => path.basename(p))): Promise<string> {
  const h = createHash("sha256");
  const visit = async (p: string, rel: string): Promise<void> => {
    const st = await lstat(p);
    h.update(`${rel}\0${st.mode}\0`);
    if (st.isSymbolicLink()) h.update(`link:${await readlink(p)}\0`);
    else if (st.isDirectory()) for (const name of (await readdir(p)).sort()) await visit(path.join(p, name), `${rel}/${name}`);
    else if (st.isFile()) h.update(await readFile(p));
  };
  for (const [i, p] of paths.entries()) await visit(p, labels[i] ?? path.basename(p));
  return h.digest("hex");
}
