"use server";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { requestMetaFrom } from "@/server/auth/request-meta";
import { db } from "@/server/db";
import { isAppError } from "@/server/errors";
import { completeSetup } from "@/server/services/setup/first-owner";
import { emailSchema, passwordSchema } from "@/server/services/users/schemas";

export interface SetupState {
  error: string | null;
}

const setupSchema = z.object({
  token: z.string().min(1).max(200),
  email: emailSchema,
  name: z.string().trim().max(120).optional(),
  password: passwordSchema,
  confirm: z.string(),
});

export async function setupAction(_prev: SetupState, form: FormData): Promise<SetupState> {
  const parsed = setupSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return { error: parsed.error.issues.map((i) => i.message).join(". ") };
  if (parsed.data.password !== parsed.data.confirm) return { error: "The two passwords differ." };
  try {
    await completeSetup(db(), { ...parsed.data, meta: requestMetaFrom(await headers()) });
  } catch (e) {
    if (isAppError(e)) return { error: e.message };
    throw e;
  }
  redirect("/sign-in");
}
