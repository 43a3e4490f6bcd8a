import { z } from "zod";

// What the gateway's deploy policy allowed a container, handed to the agent
// with its create request so the agent can hold it to that where only the host
// can tell: which image the name or ID really resolves to and where its content
// came from, and where a bind source really leads once symlinks are followed.
// The agent keeps it with the container and applies it at create and at every
// start. Only the gateway sets it; its Docker-API proxy drops a client's copy.
//
// Pure: no node: imports (base64 through btoa/atob, which Node 20 has too).

export const CONFINEMENT_HEADER = "x-berth-confinement";

export const confinementSchema = z
  .object({
    /** The registry allowlist: the image's content must have come from one of these. */
    registries: z.array(z.string().min(1).max(255)).max(100).optional(),
    /** The bind-mount allowlist: every bind source must really lie under one of these. */
    bindPrefixes: z
      .array(z.string().min(1).max(4096).refine((p) => p.startsWith("/") && !p.includes("\0"), "must be an absolute path"))
      .max(100)
      .optional(),
  })
  .strict();

export type Confinement = z.infer<typeof confinementSchema>;

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(value: string): string {
  const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** The header value: base64url of the JSON (paths may hold any UTF-8, header values may not). */
export function encodeConfinement(c: Confinement): string {
  return toBase64Url(JSON.stringify(confinementSchema.parse(c)));
}

/** Parses the header value; throws a readable Error when it is not one. */
export function decodeConfinement(value: string): Confinement {
  if (value.length > 64 * 1024 || !/^[A-Za-z0-9_-]*$/.test(value)) throw new Error(`invalid ${CONFINEMENT_HEADER} header: not base64url`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64Url(value));
  } catch {
    throw new Error(`invalid ${CONFINEMENT_HEADER} header: not base64url-encoded JSON`);
  }
  const result = confinementSchema.safeParse(parsed);
  if (!result.success) throw new Error(`invalid ${CONFINEMENT_HEADER} header: ${result.error.issues[0]?.message ?? "bad value"}`);
  return result.data;
}

/** True when it constrains anything. */
export function isConfining(c: Confinement | undefined): c is Confinement {
  return Boolean(c && ((c.registries && c.registries.length > 0) || c.bindPrefixes !== undefined));
}
