import { AsyncLocalStorage } from "node:async_hooks";
import type { RegistryCredentials } from "../images/registry-client";
import { ApiError } from "./errors";

// X-Registry-Auth travels with one request. The registry client asks for
// credentials deep inside a pull or push; AsyncLocalStorage hands it the ones
// of the request it is serving, so concurrent requests never see each other's.

const current = new AsyncLocalStorage<RegistryCredentials | undefined>();

export function credentialsForRequest(): RegistryCredentials | undefined {
  return current.getStore();
}

export function withRegistryAuth<T>(header: string | string[] | undefined, task: () => Promise<T>): Promise<T> {
  return current.run(decodeRegistryAuth(header), task);
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
