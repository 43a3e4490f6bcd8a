import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { AgentError } from "../errors";
import { resolveInRoot } from "../snapshots/secure-path";
import { type BindStage, checkOpenedWithin, openConfinedSource, stageConfinedSource, unstage } from "./confined-bind";
import type { OciMount } from "../runtime/spec-types";
import type { VolumeStore } from "../volumes/store";
import type { EngineVolumes } from "./deps";
import { collectMounts, type MountSpec } from "../../lib/docker/mounts";
import type { HostSettings } from "./container-store";

// Mounts, from create (volumes made, names filled in) to start (host paths,
// copy-up, OCI mounts).

/**
 * At create: parse every mount and create the volumes they name (anonymous
 * ones get random names). Volumes --volumes-from brought (`inherited`) must
 * exist: they are the source container's.
 */
export async function prepareMounts(host: HostSettings, imageVolumes: string[], volumes: EngineVolumes, inherited: MountSpec[] = []): Promise<{ mounts: MountSpec[]; created: string[] }> {
  const mounts = collectMounts({ binds: host.Binds, mounts: host.Mounts, tmpfs: host.Tmpfs, imageVolumes, inherited });
  const created: string[] = [];
  try {
    for (const m of mounts) {
      if (m.type !== "volume") continue;
      if (m.from) {
        volumes.get(m.source);
        continue;
      }
      const existed = m.source ? Boolean(volumes.find(m.source)) : false;
      const v = await volumes.create(m.source ? { name: m.source } : {});
      if (!existed) created.push(v.Name);
      m.source = v.Name;
    }
  } catch (e) {
    for (const name of created) await volumes.remove(name, []).catch(() => {});
    throw e;
  }
  return { mounts, created };
}

function copyInto(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("cp", ["-a", "--", `${from}/.`, `${to}/`], { timeout: 600_000 }, (err, _o, stderr) => (err ? reject(new AgentError("INTERNAL", `copying the image's content into the volume failed: ${stderr || err.message}`)) : resolve())),
  );
}

/**
 * At start: host directories for -v binds, the image's content copied into
 * empty new volumes, then the OCI mounts. A bind under an allowlist (the
 * container's own, `confine.prefixes`, or those a --volumes-from bind brought)
 * is opened confined to it and staged (see confined-bind.ts): the caller takes
 * the stages down once runc has mounted them.
 */
export async function ociMounts(
  mounts: MountSpec[],
  rootfs: string,
  volumes: EngineVolumes,
  confine: { prefixes?: string[]; stageDir: string },
): Promise<{ mounts: OciMount[]; stages: BindStage[] }> {
  const out: OciMount[] = [];
  const stages: BindStage[] = [];
  try {
    for (const m of mounts) {
      if (m.type === "tmpfs") {
        out.push({ destination: m.destination, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", ...m.tmpfsOptions, ...(m.readOnly ? ["ro"] : [])] });
        continue;
      }
      const allowlists = m.type === "bind" ? [...(confine.prefixes ? [confine.prefixes] : []), ...(m.bindPrefixes ?? [])] : [];
      const source = m.type === "bind" ? (allowlists.length ? await stagedBind(m, allowlists, confine.stageDir, stages) : await bindSource(m)) : await volumeSource(m, rootfs, volumes);
      out.push({ destination: m.destination, type: "bind", source, options: ["rbind", m.readOnly ? "ro" : "rw", "rprivate"] });
    }
  } catch (e) {
    await unstage(stages);
    throw e;
  }
  return { mounts: out, stages };
}

/** An unconfined bind: the host path as given (-v makes a missing directory, --mount doesn't). */
async function bindSource(m: MountSpec): Promise<string> {
  if (!existsSync(m.source)) {
    if (!m.createHostPath) throw new AgentError("INVALID", `invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
    await mkdir(m.source, { recursive: true, mode: 0o755 });
  }
  return m.source;
}

/**
 * A bind under allowlists: the object the source really leads to, opened
 * confined to the first and checked against the others, then staged for runc.
 * Missing directories are made only under a single allowlist.
 */
async function stagedBind(m: MountSpec, allowlists: string[][], stageDir: string, stages: BindStage[]): Promise<string> {
  const [first, ...others] = allowlists as [string[], ...string[][]];
  const opened = await openConfinedSource(m.source, first, { create: m.createHostPath && others.length === 0 });
  try {
    for (const prefixes of others) await checkOpenedWithin(m.source, opened, prefixes);
    const stage = { path: path.join(stageDir, String(stages.length)), isDirectory: opened.isDirectory };
    await stageConfinedSource(opened, stage.path);
    stages.push(stage);
    return stage.path;
  } finally {
    await opened.handle.close();
  }
}

/** A volume's directory, first filled with the image's content at the destination when it is new. */
async function volumeSource(m: MountSpec, rootfs: string, volumes: EngineVolumes): Promise<string> {
  const v = volumes.get(m.source);
  if (m.copyUp && !v.populated) {
    // Like Docker: only into a volume that is still empty, and only once.
    // Resolved inside the container's root (an image symlink can't point it at the host), and only a real directory.
    const inImage = await resolveInRoot(rootfs, m.destination, { followFinal: true }).catch(() => null);
    const st = inImage ? await lstat(inImage).catch(() => null) : null;
    if (inImage && st?.isDirectory() && (await readdir(v.Mountpoint)).length === 0) await copyInto(inImage, v.Mountpoint);
    await volumes.markPopulated(v.Name);
  }
  return v.Mountpoint;
}

/** Docker's inspect Mounts. */
export function mountViews(mounts: MountSpec[], volumes: Pick<VolumeStore, "find">) {
  return mounts.map((m) => {
    if (m.type === "volume") {
      const v = volumes.find(m.source);
      return { Type: "volume", Name: m.source, Source: v?.Mountpoint ?? "", Destination: m.destination, Driver: "local", Mode: m.readOnly ? "ro" : "", RW: !m.readOnly, Propagation: "" };
    }
    if (m.type === "tmpfs") return { Type: "tmpfs", Source: "", Destination: m.destination, Mode: "", RW: !m.readOnly, Propagation: "" };
    return { Type: "bind", Source: m.source, Destination: m.destination, Mode: m.readOnly ? "ro" : "", RW: !m.readOnly, Propagation: "rprivate" };
  });
}
