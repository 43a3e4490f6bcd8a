import "server-only";
import { z } from "zod";
import { ALL_PERMISSIONS } from "../../lib/permissions";
import { nameSchema } from "../../lib/validation/text";

const id = z.string().min(1).max(64);
const ids = z
  .array(id)
  .max(100)
  .default([])
  .transform((list) => [...new Set(list)]);

export const createTokenSchema = z.object({
  name: nameSchema(60, "Give the token a name"),
  /** Null or absent: never expires. */
  expiresAt: z.date().nullable().default(null),
  /** Empty: everything the owner may do, now and later. */
  permissions: z
    .array(z.enum(ALL_PERMISSIONS as [string, ...string[]]))
    .max(ALL_PERMISSIONS.length)
    .default([])
    .transform((list) => [...new Set(list)].sort()),
  hostIds: ids,
  hostGroupIds: ids,
});

export type CreateTokenInput = z.output<typeof createTokenSchema>;

export const tokenIdSchema = z.object({ id });
