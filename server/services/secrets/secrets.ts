import "server-only";
import { z } from "zod";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { Prisma } from "../../generated/prisma/client";
import type { SecretBox } from "../../secrets/cipher";
import { plainTextSchema } from "../../../lib/validation/text";

// The secrets stacks mount as files (/run/secrets/<name>): sealed at rest,
// never sent back, never in an audit record (only names are). A new value
// bumps `revision`, which goes into the config hash of every service that
// mounts it, so re-applying the stack recreates exactly those services.

const PURPOSE = "stack-secret";

export const secretNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "use letters, digits, _ . - (starting with a letter or digit)")
  .max(128);

const valueSchema = z.string().min(1, "enter the value").max(64 * 1024, "at most 64 KiB");
const descriptionSchema = plainTextSchema({ max: 500 }).nullish();

export const createSecretInput = z.object({ name: secretNameSchema, value: valueSchema, description: descriptionSchema });
export const updateSecretInput = z.object({ id: z.string().min(1).max(64), value: valueSchema.optional(), description: descriptionSchema });
export const deleteSecretInput = z.object({ id: z.string().min(1).max(64) });

export interface SecretView {
  id: string;
  name: string;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
  usedBy: number;
}

const VIEW = { id: true, name: true, description: true, createdAt: true, updatedAt: true } as const;

/** The stacks (not taken down) whose current version mounts each secret, by secret name. */
export async function stacksUsingSecrets(db: Db): Promise<Map<string, { id: string; name: string; hostId: string }[]>> {
  const stacks = await db.stack.findMany({ where: { status: { not: "down" }, currentVersion: { gt: 0 } }, select: { id: true, name: true, hostId: true, currentVersion: true } });
  const out = new Map<string, { id: string; name: string; hostId: string }[]>();
  if (stacks.length === 0) return out;
  const versions = await db.stackVersion.findMany({
    where: { OR: stacks.map((s) => ({ stackId: s.id, number: s.currentVersion })) },
    select: { stackId: true, secretNames: true },
  });
  const byId = new Map(stacks.map((s) => [s.id, s]));
  for (const v of versions) {
    const s = byId.get(v.stackId)!;
    for (const name of v.secretNames) {
      const list = out.get(name) ?? [];
      list.push({ id: s.id, name: s.name, hostId: s.hostId });
      out.set(name, list);
    }
  }
  return out;
}

export async function listSecrets(db: Db): Promise<{ items: SecretView[] }> {
  const [rows, used] = await Promise.all([db.secret.findMany({ orderBy: { name: "asc" }, select: VIEW }), stacksUsingSecrets(db)]);
  return { items: rows.map((r) => ({ ...r, usedBy: used.get(r.name)?.length ?? 0 })) };
}

export async function createSecret(db: Db, box: SecretBox, input: z.infer<typeof createSecretInput>): Promise<SecretView> {
  try {
    const row = await db.secret.create({ data: { name: input.name, value: box.seal(input.value, PURPOSE), description: input.description ?? null }, select: VIEW });
    return { ...row, usedBy: 0 };
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") throw new AppError("CONFLICT", `A secret named "${input.name}" already exists.`);
    throw e;
  }
}

export async function updateSecret(db: Db, box: SecretBox, input: z.infer<typeof updateSecretInput>): Promise<SecretView> {
  const existing = await db.secret.findUnique({ where: { id: input.id }, select: { id: true } });
  if (!existing) throw new AppError("NOT_FOUND", "No such secret.");
  const row = await db.secret.update({
    where: { id: input.id },
    data: {
      ...(input.value !== undefined ? { value: box.seal(input.value, PURPOSE), revision: { increment: 1 } } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
    },
    select: VIEW,
  });
  const used = await stacksUsingSecrets(db);
  return { ...row, usedBy: used.get(row.name)?.length ?? 0 };
}

/** Refused while a stack's current version mounts it, naming those stacks. */
export async function deleteSecret(db: Db, id: string): Promise<{ id: string; name: string }> {
  const row = await db.secret.findUnique({ where: { id }, select: { id: true, name: true } });
  if (!row) throw new AppError("NOT_FOUND", "No such secret.");
  const users = (await stacksUsingSecrets(db)).get(row.name) ?? [];
  if (users.length > 0) {
    throw new AppError("CONFLICT", `The secret "${row.name}" is used by the stack${users.length > 1 ? "s" : ""} ${users.map((s) => `"${s.name}"`).join(", ")}: remove it from ${users.length > 1 ? "them" : "it"} first.`);
  }
  await db.secret.delete({ where: { id } });
  return row;
}

/** What the apply engine needs of each secret: its revision (for the config hash) and, to mount it, its value. Never stored anywhere else. */
export interface ResolvedSecret {
  name: string;
  revision: number;
  value: Buffer;
}

/** The named secrets, opened; a missing one is refused, naming it (and nothing is done). */
export async function resolveSecrets(db: Db, box: SecretBox, names: string[]): Promise<Map<string, ResolvedSecret>> {
  const wanted = [...new Set(names)];
  const rows = wanted.length ? await db.secret.findMany({ where: { name: { in: wanted } } }) : [];
  const found = new Map(rows.map((r) => [r.name, r]));
  const missing = wanted.filter((n) => !found.has(n));
  if (missing.length) {
    throw new AppError("PRECONDITION_FAILED", `No Berth secret named ${missing.map((n) => `"${n}"`).join(", ")}: create ${missing.length > 1 ? "them" : "it"} under Secrets first.`);
  }
  return new Map(rows.map((r) => [r.name, { name: r.name, revision: r.revision, value: Buffer.from(box.open(r.value, PURPOSE), "utf8") }]));
}
