import "server-only";
import { z } from "zod";

// How to reach a host over SSH. Validated at the boundary; the secret parts
// are sealed before they reach the database.

export const sshAuthSchema = z.discriminatedUnion("method", [
  z.object({
    method: z.literal("key"),
    privateKey: z
      .string()
      .max(16 * 1024, "private key is too long")
      .refine((k) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k), "paste the private key, starting with -----BEGIN … PRIVATE KEY-----"),
    passphrase: z.string().max(1024).optional(),
  }),
  z.object({ method: z.literal("password"), password: z.string().min(1, "enter the password").max(1024) }),
]);
export type SshAuth = z.infer<typeof sshAuthSchema>;

const hostname = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

// No node:net here: the console's forms validate with these schemas in the browser too.
function isIpv6(a: string): boolean {
  if (!/^[0-9a-fA-F:]+$/.test(a) || !a.includes(":") || a.split("::").length > 2) return false;
  const groups = a.split(":").filter((g) => g !== "");
  return groups.length <= 8 && groups.every((g) => g.length <= 4) && (a.includes("::") || groups.length === 8);
}

export const sshEndpointSchema = z.object({
  address: z
    .string()
    .trim()
    .min(1, "enter the host's address")
    .max(253)
    .refine((a) => hostname.test(a) || isIpv6(a), "not a hostname or IP address"),
  port: z.number().int().min(1).max(65535).default(22),
  username: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .regex(/^[a-z_][a-z0-9_.-]*\$?$/i, "not a valid user name"),
});

export interface SshTarget {
  address: string;
  port: number;
  username: string;
  auth: SshAuth;
}
