import "server-only";
import { cache } from "react";
import { db } from "../db";
import type { Viewer } from "./access";
import { auth } from "./config";
import { viewerForSession } from "./sessions";

/** The signed-in user with their grants, or null. Checked against the database on every request. */
export const getViewer = cache(async (): Promise<Viewer | null> => {
  const session = (await auth()) as { sid?: string } | null;
  return viewerForSession(db(), session?.sid);
});
