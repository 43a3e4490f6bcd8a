import "server-only";
import { z } from "zod";
import { ALL_PERMISSIONS, type Permission } from "../../../lib/permissions";
import { plainTextSchema } from "../../../lib/validation/text";

export const roleNameSchema = z
  .string()
  .trim()
  .min(2, "Role name needs at least 2 characters")
  .max(60)
  .regex(/^[\p{L}\p{N} ._-]+$/u, "Use letters, digits, spaces, dots, dashes or underscores");

export const permissionListSchema = z
  .array(z.enum(ALL_PERMISSIONS as [Permission, ...Permission[]]))
  .min(1, "Pick at least one permission")
  .max(ALL_PERMISSIONS.length)
  .transform((list) => [...new Set(list)].sort());

export const createRoleSchema = z.object({
  name: roleNameSchema,
  description: plainTextSchema({ max: 300 }).default(""),
  permissions: permissionListSchema,
});

export const updateRoleSchema = createRoleSchema.extend({ id: z.string().min(1).max(64) });
