import { AsyncLocalStorage } from "node:async_hooks";
import type { RegistryCredentials } from "../images/registry-client";
import { ApiError } from "./errors";

// X-Registry-Auth travels with one request. The registry client asks for
// credentials deep inside a pull or push; AsyncLocalStorage hands it the ones
// of the request it is serving, so concurrent requests never see each other's.

interface RequestAuth {
  credentials: RegistryCredentials;
  /** The registry the client meant them for (`serveraddress`), normalised; null when it named none. */
  registry: string | null;
}

const current = new AsyncLocalStorage<RequestAuth | undefined>();

/** `https://index.docker.io/v1/`, `registry.example.com:5000/v2` → the registry host as image references name it. */
export function normaliseServerAddress(value: string): string | null {
  const host = value.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0]!.toLowerCase();
  if (!host) return null;
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

/**
 * The request's credentials for `registry`. When the client said which
 * registry they are for, they are given to that registry only: a pull that
 * is redirected to (or names) another registry goes there anonymously.
 */
export function credentialsForRequest(registry?: string): RegistryCredentials | undefined {
  const auth = current.getStore();
  if (!auth) return undefined;
  if (auth.registry !== null && registry !== undefined && normaliseServerAddress(registry) !== auth.registry) return undefined;
  return auth.credentials;
}

export function withRegistryAuth<T>(header: string | string[] | undefined, task: () => Promise<T>): Promise<T> {
  const credentials = decodeRegistryAuth(header);
  const auth = credentials ? { credentials, registry: decodeServerAddress(header) } : undefined;
  return current.run(auth, task);
}

function decodeServerAddress(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  try {
    const parsed = JSON.parse(Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8")) as { serveraddress?: unknown };
    return typeof parsed?.serveraddress === "string" ? normaliseServerAddress(parsed.serveraddress) : null;
  } catch {
    return null;
  }
}

/** base64url(JSON {username, password, serveraddress, identitytoken, registrytoken}). Empty or "{}" = anonymous. */
export function decodeRegistryAuth(header: string | string[] | undefined): RegistryCredentials | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  let parsed: { username?: string; password?: string };
  try {
    parsed = JSON.parse(Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8")) as typeof parsed;
  } catch {
    throw new ApiError(400, "X-Registry-Auth is not base64url-encoded JSON");
  }
  if (!parsed || typeof parsed !== "object" || !parsed.username) return undefined;
  return { username: parsed.username, password: parsed.password ?? "" };
}
