import "server-only";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import { db } from "../db";
import { env } from "../env";
import { publicOrigin, sameOriginPath } from "../http/same-origin";
import type { Viewer } from "./access";
import { auth } from "./config";
import { REQUEST_PATH_HEADER } from "./request-meta";
import { viewerForSession } from "./sessions";

/** The signed-in user with their grants, or null. Checked against the database on every request. */
export const getViewer = cache(async (): Promise<Viewer | null> => {
  const session = (await auth()) as { sid?: string } | null;
  return viewerForSession(db(), session?.sid);
});

/**
 * The viewer for a console page or server action, or a redirect to sign-in
 * that comes back here afterwards. A Next.js layout doesn't guard the page
 * rendered beside it (both render at once), so every page and action asks
 * for its viewer itself, through this one function.
 */
export async function requireViewer(): Promise<Viewer> {
  const viewer = await getViewer();
  if (viewer) return viewer;
  redirect(signInPath(await requestedPath()));
}

/** /sign-in, with `next` naming the page asked for (the sign-in page checks it again). */
export function signInPath(next: string | null): string {
  return next ? `/sign-in?${new URLSearchParams({ next })}` : "/sign-in";
}

/**
 * The path and query the browser asked for, as the gateway recorded it
 * (Next doesn't tell a page its own URL). Only a plain path on this console
 * counts; the router's own `_rsc` cache-buster is dropped.
 */
async function requestedPath(): Promise<string | null> {
  const raw = (await headers()).get(REQUEST_PATH_HEADER);
  const origin = publicOrigin(env());
  const path = sameOriginPath(raw, origin);
  if (!path) return null;
  const url = new URL(path, origin);
  url.searchParams.delete("_rsc");
  return `${url.pathname}${url.search}`;
}
