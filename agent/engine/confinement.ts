import type { Confinement } from "../../lib/confinement";
import { judgeProvenance } from "../../lib/image-provenance";
import type { ImageRecord } from "../images/image-records";
import { collectMounts, type MountSpec } from "../../lib/docker/mounts";
import { checkBindSourceWritten } from "./confined-bind";
import type { HostSettings } from "./container-store";
import { EngineError } from "./errors";

/**
 * At create, before anything is written: the image the name or ID resolved to
 * must have content from an allowed registry, and every bind source must be
 * under an allowed path as written (where it really leads is checked at every
 * start, when it is mounted).
 */
export function checkConfinement(confinement: Confinement, imageKey: string, image: ImageRecord, host: HostSettings, inherited: MountSpec[] = []): void {
  const registries = confinement.registries ?? [];
  if (registries.length > 0) {
    const verdict = judgeProvenance(image.provenance, registries);
    if (!verdict.ok) {
      const shown = imageKey.replace(/^sha256:/, "") === image.id.slice(7, 7 + imageKey.replace(/^sha256:/, "").length) ? image.id : `${imageKey} (${image.id})`;
      throw new EngineError("FORBIDDEN", `image ${shown} is refused by the registry allowlist (${registries.join(", ")}): ${verdict.why}`);
    }
  }
  if (confinement.bindPrefixes) {
    // Binds --volumes-from brings are held to this container's allowlist as well as to the source's.
    const mounts = collectMounts({ binds: host.Binds, mounts: host.Mounts, tmpfs: host.Tmpfs, imageVolumes: [], inherited });
    for (const m of mounts) if (m.type === "bind") checkBindSourceWritten(m.source, confinement.bindPrefixes);
  }
}
