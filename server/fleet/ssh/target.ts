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
const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export const sshEndpointSchema = z.object({
  address: z
    .string()
    .trim()
    .min(1, "enter the host's address")
    .max(253)
    .refine((a) => ipv4.test(a) || hostname.test(a) || /^[0-9a-fA-F:]+$/.test(a), "not a hostname or IP address"),
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
