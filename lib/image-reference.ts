import { InputError } from "./errors";

/** A reference that isn't one, with the reason. */
export class InvalidReferenceError extends InputError {
  readonly code = "INVALID_REFERENCE" as const;
  constructor(message: string) {
    super(message);
    this.name = "InvalidReferenceError";
  }
}

// Image references, parsed and normalised the way Docker's distribution/reference
// does: `busybox` is `docker.io/library/busybox:latest`.

export const DEFAULT_REGISTRY = "docker.io";
export const DEFAULT_TAG = "latest";

export interface ImageReference {
  /** Registry host[:port], normalised (`docker.io` for Docker Hub). */
  registry: string;
  /** Repository path within the registry, e.g. `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const MAX_NAME = 255;

function invalid(input: string, why: string): never {
  throw new InvalidReferenceError(`invalid reference "${input}": ${why}`);
}

function validDomain(domain: string): boolean {
  let host = domain;
  const ipv6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(domain);
  if (ipv6) return true;
  const colon = domain.lastIndexOf(":");
  if (colon !== -1) {
    const port = domain.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return false;
    host = domain.slice(0, colon);
  }
  return host.split(".").every((part) => DOMAIN_COMPONENT.test(part));
}

/** Parses a reference; throws InvalidReferenceError with the reason. */
export function parseReference(input: string, options: { defaultTag?: boolean } = {}): ImageReference {
  const raw = input.trim();
  if (!raw) invalid(input, "it is empty");
  if (raw.length > 1024 || /[\s\u0000]/.test(raw)) invalid(input, "it contains whitespace or is too long");

  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (digest.startsWith("sha256:") && !SHA256.test(digest)) invalid(input, "a sha256 digest has 64 lowercase hex characters");
    if (!DIGEST.test(digest)) invalid(input, `"${digest}" is not a valid digest (expected algorithm:hex)`);
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) invalid(input, `"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  if (!rest) invalid(input, "the repository name is missing");

  // The first component is a registry if it looks like a host: has a dot or a
  // port, or is "localhost" (Docker's rule), and isn't all lowercase otherwise.
  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase()) {
      registry = first;
      path = rest.slice(slash + 1);
      if (!validDomain(registry)) invalid(input, `"${registry}" is not a valid registry host`);
    }
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !path.includes("/")) path = `library/${path}`;

  if (path !== path.toLowerCase()) invalid(input, "repository names must be lowercase");
  for (const component of path.split("/")) {
    if (!COMPONENT.test(component)) invalid(input, `"${component}" is not a valid repository name component`);
  }
  if (registry.length + 1 + path.length > MAX_NAME) invalid(input, `the name is longer than ${MAX_NAME} characters`);

  if (!tag && !digest && options.defaultTag !== false) tag = DEFAULT_TAG;
  return { registry, repository: path, tag, digest };
}

/** Full, normalised form: `docker.io/library/busybox:latest`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The repository part: `docker.io/library/busybox`. */
export function repositoryName(ref: Pick<ImageReference, "registry" | "repository">): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Docker's short form for display: `busybox:latest`, `localhost:5000/app:v1`. */
export function familiarName(ref: ImageReference): string {
  let name = repositoryName(ref);
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository.startsWith("library/") ? ref.repository.slice("library/".length) : ref.repository;
  }
  return `${name}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The host to talk to for a registry name. */
export function registryEndpointHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? "registry-1.docker.io" : registry;
}

/** Loopback registries are reached over plain HTTP unless told otherwise (as Docker does). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
