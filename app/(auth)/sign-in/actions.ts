"use server";
import { AuthError } from "next-auth";
import { redirect } from "next/navigation";
import { LockedOut, signIn } from "@/server/auth/config";
import { env } from "@/server/env";
import { publicOrigin, sameOriginPath } from "@/server/http/same-origin";

export interface SignInState {
  error: string | null;
  email: string;
}

function describe(error: AuthError): string {
  if (error instanceof LockedOut) {
    const minutes = Math.max(1, Math.ceil(error.retryAfterSeconds / 60));
    return `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
  }
  const code = (error as { code?: string }).code;
  if (code === "disabled") return "This account is disabled. Ask an administrator to re-enable it.";
  return "Wrong email or password.";
}

export async function signInAction(_prev: SignInState, form: FormData): Promise<SignInState> {
  const email = String(form.get("email") ?? "");
  const password = String(form.get("password") ?? "");
  // The form's `next` comes from the link that opened the page: anyone's. Only a plain path on this console.
  const next = sameOriginPath(form.get("next"), publicOrigin(env())) ?? "/";
  try {
    await signIn("credentials", { email, password, redirect: false });
  } catch (error) {
    if (error instanceof AuthError) return { error: describe(error), email };
    throw error;
  }
  redirect(next);
}
