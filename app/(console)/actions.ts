"use server";
import { signOut } from "@/server/auth/config";

// The one action that needs no viewer: it ends whatever session the cookie
// names, even one already revoked or expired, so the cookie goes too.
export async function signOutAction() {
  await signOut({ redirectTo: "/sign-in" });
}
