import "server-only";
import type { RequestMeta } from "../audit/types";

// Set by server/main.ts from the socket (or a trusted proxy); any value a
// client sends under these names is dropped there first.
export const REQUEST_ID_HEADER = "x-berth-request-id";
export const CLIENT_IP_HEADER = "x-berth-client-ip";
/** The path and query the client asked for: a page's way back after sign-in (Next doesn't tell a page its URL). */
export const REQUEST_PATH_HEADER = "x-berth-request-path";

export function requestMetaFrom(headers: Pick<Headers, "get">): RequestMeta {
  return {
    requestId: headers.get(REQUEST_ID_HEADER),
    ip: headers.get(CLIENT_IP_HEADER),
    userAgent: headers.get("user-agent"),
  };
}
