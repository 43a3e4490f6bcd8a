import "server-only";
import { z } from "zod";
import { parseReference } from "../../../lib/image-reference";
import { normaliseRegistry } from "../../../lib/policy/rules";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { Prisma } from "../../generated/prisma/client";
import type { SecretBox } from "../../secrets/cipher";
import { nameSchema, plainTextSchema } from "../../../lib/validation/text";

// Saved registry credentials: usable for pull and push, never shown again.

const PURPOSE = "registry-password";

export const registryInputSchema = z.object({
  name: nameSchema(60, "name it"),
  address: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "a registry host such as registry.example.com or 10.0.0.5:5000 (docker.io for Docker Hub)"),
  username: plainTextSchema({ min: 1, max: 255, minMessage: "enter the user name" }),
  password: z.string().min(1, "enter the password or token").max(4096),
});

export interface RegistryView {
  id: string;
  name: string;
  address: string;
  username: string;
  createdAt: Date;
}

const VIEW = { id: true, name: true, address: true, username: true, createdAt: true } as const;

function conflict(name: string) {
  return (e: unknown) => {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") throw new AppError("CONFLICT", `A registry named "${name}" already exists.`);
    throw e;
  };
}

/** Every saved registry with its user name: for those who manage them (registries.manage). */
export function listRegistries(db: Db): Promise<RegistryView[]> {
  return db.registry.findMany({ orderBy: { name: "asc" }, select: VIEW });
}

/** What a pull, push or deploy form needs to pick a saved registry by: its id, name and address. Nothing about the login. */
export type RegistryChoice = Pick<RegistryView, "id" | "name" | "address">;

export function listRegistryChoices(db: Db): Promise<RegistryChoice[]> {
  return db.registry.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true, address: true } });
}

export function createRegistry(db: Db, box: SecretBox, input: z.infer<typeof registryInputSchema>): Promise<RegistryView> {
  return db.registry
    .create({ data: { name: input.name, address: input.address.toLowerCase(), username: input.username, credential: box.seal(input.password, PURPOSE) }, select: VIEW })
    .catch(conflict(input.name));
}

export async function updateRegistry(db: Db, box: SecretBox, id: string, input: Partial<z.infer<typeof registryInputSchema>>): Promise<RegistryView> {
  if (!(await db.registry.findUnique({ where: { id } }))) throw new AppError("NOT_FOUND", "No such registry.");
  return db.registry
    .update({
      where: { id },
      data: {
        ...(input.name ? { name: input.name } : {}),
        ...(input.address ? { address: input.address.toLowerCase() } : {}),
        ...(input.username ? { username: input.username } : {}),
        ...(input.password ? { credential: box.seal(input.password, PURPOSE) } : {}),
      },
      select: VIEW,
    })
    .catch(conflict(input.name ?? ""));
}

export async function removeRegistry(db: Db, id: string): Promise<void> {
  await db.registry.delete({ where: { id } }).catch(() => {
    throw new AppError("NOT_FOUND", "No such registry.");
  });
}

/** The registry an image reference names, normalised as the policy compares them (docker.io for Docker Hub). */
function registryOfImage(reference: string): string {
  try {
    return normaliseRegistry(parseReference(reference).registry);
  } catch (e) {
    throw new AppError("BAD_REQUEST", `Invalid image reference "${reference}": ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The X-Registry-Auth header value for a saved registry (base64 JSON, as the
 * docker CLI sends it), for pulling or pushing `reference`. A saved
 * registry's credentials are only ever sent to that registry: an image from
 * anywhere else is refused, so naming a registry id can't hand its password
 * to a registry the caller chose.
 */
export async function registryAuthHeader(db: Db, box: SecretBox, id: string, reference: string): Promise<{ header: string; address: string }> {
  const row = await db.registry.findUnique({ where: { id } });
  if (!row) throw new AppError("BAD_REQUEST", "That saved registry does not exist.");
  const imageRegistry = registryOfImage(reference);
  if (imageRegistry !== normaliseRegistry(row.address)) {
    throw new AppError(
      "BAD_REQUEST",
      `Image "${reference}" is from ${imageRegistry}, but the saved registry "${row.name}" is ${row.address}: its credentials are only sent to ${row.address}.`,
    );
  }
  const auth = { username: row.username, password: box.open(row.credential, PURPOSE), serveraddress: row.address };
  return { header: Buffer.from(JSON.stringify(auth)).toString("base64url"), address: row.address };
}
