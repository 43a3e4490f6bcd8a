// Where an image's content came from, and whether a registry allowlist admits
// it. Pure (no node: imports): the agent records and enforces it at container
// create, and the gateway judges it in the deploy policy with the same code.
//
// The allowlist judges the content, not the name: renaming an image from a
// registry that isn't allowed into an allowed name (docker tag), or naming it
// by its ID, changes nothing here, because tags and IDs don't change where the
// content came from.

/** What the agent takes for an image ID (or a unique prefix of one) before it tries a name: `sha256:…` or 4–64 hex digits. */
export function looksLikeImageId(reference: string): boolean {
  return /^(sha256:)?[a-f0-9]{4,64}$/.test(reference);
}

export type MadeHow = "build" | "commit" | "load";

export interface ImageProvenance {
  /** Registries this exact image (its config digest) was pulled from: any one of them vouches for all of it. */
  registries: string[];
  /** Set when the image was made on the host rather than pulled. */
  made?: MadeHow;
  /**
   * For a made image, what its content came from: one entry per input image
   * (the base of a build step or commit, a COPY --from image), each entry the
   * registries that vouch for that input. Every entry must be met. An empty
   * entry can never be met: content that came from no registry (a loaded
   * archive, a build from scratch).
   */
  inputs?: string[][];
}

export const UNKNOWN_PROVENANCE: ImageProvenance = Object.freeze({ registries: [] });

const normalise = (registry: string) => {
  const host = registry.trim().toLowerCase();
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
};

function unique(values: string[]): string[] {
  return [...new Set(values.map(normalise))].sort();
}

/** What a made image inherits from one input image: the registries that vouch for it, as one requirement list. */
export function requirementsOf(p: ImageProvenance | undefined): string[][] {
  if (!p) return [[]];
  if (p.registries.length > 0) return [unique(p.registries)];
  if (p.made && p.inputs && p.inputs.length > 0) return p.inputs.map(unique);
  return [[]];
}

/** The provenance of an image made here from `inputs` (none: local content only). */
export function madeFrom(made: MadeHow, inputs: (ImageProvenance | undefined)[]): ImageProvenance {
  const all = inputs.length === 0 ? [[]] : inputs.flatMap(requirementsOf);
  const seen = new Set<string>();
  const deduped = all.filter((entry) => {
    const key = entry.join(",");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { registries: [], made, inputs: deduped };
}

/** Adds a registry the image was (again) pulled from. */
export function pulledFrom(p: ImageProvenance | undefined, registry: string): ImageProvenance {
  return { ...(p ?? UNKNOWN_PROVENANCE), registries: unique([...(p?.registries ?? []), registry]) };
}

export type ProvenanceVerdict = { ok: true } | { ok: false; why: string };

/** Whether `allowlist` (registry hosts) admits the image's content. An empty allowlist admits everything. */
export function judgeProvenance(p: ImageProvenance | undefined, allowlist: string[]): ProvenanceVerdict {
  const allowed = new Set(allowlist.map(normalise));
  if (allowed.size === 0) return { ok: true };
  const registries = unique(p?.registries ?? []);
  if (registries.some((r) => allowed.has(r))) return { ok: true };
  if (p?.made && p.inputs && p.inputs.length > 0) {
    const unmet = p.inputs.map(unique).filter((entry) => !entry.some((r) => allowed.has(r)));
    if (unmet.length === 0) return { ok: true };
    const first = unmet[0]!;
    const what =
      first.length === 0
        ? `content that came from no registry (${p.made === "load" ? "a loaded archive" : p.made === "build" ? "a build from scratch or from such an image" : "such an image"})`
        : `an image from ${first.join(", ")}`;
    return { ok: false, why: `it was made on the host (${p.made}) from ${what}` };
  }
  if (registries.length > 0) return { ok: false, why: `its content came from ${registries.join(", ")}` };
  if (p?.made === "load") return { ok: false, why: "it was loaded from an archive on the host, not pulled from a registry" };
  return { ok: false, why: "where its content came from is unknown (pulled before Berth recorded image origins: pull it again)" };
}
