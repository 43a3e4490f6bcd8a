import "server-only";
import { z } from "zod";
import { MIN_PASSWORD_LENGTH } from "../../auth/password";
import { plainTextSchema } from "../../../lib/validation/text";

export const emailSchema = z.email("Enter a valid email address").max(320).transform((e) => e.trim().toLowerCase());
export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `Passwords need at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, "Passwords can have at most 1024 characters");
export const idSchema = z.string().min(1).max(64);

export const scopeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("global") }),
  z.object({ type: z.literal("hostGroup"), id: idSchema }),
  z.object({ type: z.literal("host"), id: idSchema }),
]);

export const createUserSchema = z.object({
  email: emailSchema,
  name: plainTextSchema({ max: 120 }).optional(),
  password: passwordSchema,
  /** A first role, bound globally. More bindings can be added later. */
  roleId: idSchema.optional(),
});

export const bindRoleSchema = z.object({ userId: idSchema, roleId: idSchema, scope: scopeSchema });
