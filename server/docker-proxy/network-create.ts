import "server-only";
import { z } from "zod";

// POST /networks/create through the proxy: a plain bridge network, named,
// optionally internal, attachable, labelled and with its own subnets. Other
// drivers (macvlan, ipvlan, host-facing ones) and driver options
// (com.docker.network.bridge.name, …, which reach the host's network set-up)
// are refused. Fields the docker CLI always sends are accepted only with the
// values that change nothing (Scope "", EnableIPv6 false, Options {}, …).

const emptyMap = z
  .record(z.string(), z.string())
  .nullable()
  .optional()
  .refine((m) => !m || Object.keys(m).length === 0, "driver options are not allowed through the Berth Docker-API proxy");

const ipamConfig = z.strictObject({
  Subnet: z.string().max(64).optional(),
  Gateway: z.string().max(64).optional(),
  IPRange: z.string().max(64).optional(),
});

export const networkCreateBody = z.strictObject({
  Name: z.string().min(1).max(255),
  Driver: z.union([z.literal("bridge"), z.literal("")], { error: 'only the "bridge" driver is allowed through the Berth Docker-API proxy' }).optional(),
  Internal: z.boolean().optional(),
  Attachable: z.boolean().optional(),
  CheckDuplicate: z.boolean().optional(),
  Labels: z.record(z.string(), z.string()).nullable().optional(),
  IPAM: z
    .strictObject({
      Driver: z.union([z.literal("default"), z.literal("")], { error: 'only the "default" IPAM driver is allowed through the Berth Docker-API proxy' }).optional(),
      Config: z.array(ipamConfig).max(16).nullable().optional(),
      Options: emptyMap,
    })
    .nullable()
    .optional(),
  Options: emptyMap,
  // Sent by the CLI on every create: accepted only when they change nothing.
  Scope: z.union([z.literal(""), z.literal("local")]).optional(),
  EnableIPv6: z.literal(false).optional(),
  Ingress: z.literal(false).optional(),
  ConfigOnly: z.literal(false).optional(),
  ConfigFrom: z.null().optional(),
});

export type NetworkCreateBody = z.infer<typeof networkCreateBody>;

/** The body, or a message naming the first problem (for a 400). */
export function parseNetworkCreate(body: unknown): { ok: true; value: NetworkCreateBody } | { ok: false; message: string } {
  const r = networkCreateBody.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  const where = issue.path.length ? issue.path.join(".") : "body";
  const message = issue.code === "unrecognized_keys" ? `${issue.keys.map((k) => (where === "body" ? k : `${where}.${k}`)).join(", ")}: not allowed through the Berth Docker-API proxy` : `invalid ${where}: ${issue.message}`;
  return { ok: false, message: `invalid network: ${message}` };
}
