import { ImageError } from "./errors";
import type { Descriptor } from "./media-types";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

export function hostPlatform(): Platform {
  return { os: "linux", architecture: NODE_ARCH[process.arch] ?? process.arch };
}

/** `linux/arm64/v8` → platform; throws on nonsense. */
export function parsePlatform(value: string): Platform {
  const [os, architecture, variant] = value.split("/");
  if (!os || !architecture || value.split("/").length > 3) {
    throw new ImageError("UNSUPPORTED", `invalid platform "${value}": expected os/arch[/variant], e.g. linux/amd64`);
  }
  return { os, architecture, variant };
}

export const formatPlatform = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join("/");

/** The index entry for a platform (variant must match when asked for). */
export function selectPlatform(manifests: Descriptor[], wanted: Platform): Descriptor {
  const candidates = manifests.filter(
    (m) => m.platform?.os === wanted.os && m.platform?.architecture === wanted.architecture && (!wanted.variant || m.platform?.variant === wanted.variant),
  );
  const chosen = candidates[0];
  if (!chosen) {
    const available = manifests.map((m) => (m.platform ? formatPlatform({ os: m.platform.os, architecture: m.platform.architecture, variant: m.platform.variant }) : "unknown")).join(", ");
    throw new ImageError("NOT_FOUND", `no image for platform ${formatPlatform(wanted)} (the index has: ${available || "nothing"})`);
  }
  return chosen;
}
