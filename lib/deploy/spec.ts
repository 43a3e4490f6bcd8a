import { z } from "zod";
import { parseReference } from "../image-reference";
import { unstorableTextProblem } from "../storable-text";

/**
 * A string the database, the audit log and the agent can all take: no NUL
 * character, no unpaired UTF-16 surrogate. Every string of the spec is one,
 * so such input is refused here, naming the field, before anything is done.
 */
function text(schema: z.ZodString = z.string(), what = "this field") {
  return schema.superRefine((value, ctx) => {
    const problem = unstorableTextProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: `${what} ${problem}` });
  });
}

/** A map of names to values (labels) whose names and values are both storable text. */
function textRecord(key: z.ZodString, value: z.ZodString, what: { key: string; value: string }) {
  return z.record(key, text(value, what.value)).superRefine((record, ctx) => {
    for (const name of Object.keys(record)) {
      const problem = unstorableTextProblem(name);
      if (problem) ctx.addIssue({ code: "custom", path: [name], message: `${what.key} ${problem}` });
    }
  });
}

/** Docker's own reference rules (the agent's parser): null when fine, else why not. */
export function imageReferenceProblem(value: string): string | null {
  try {
    parseReference(value);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : "not a valid image reference";
  }
}

/** An image reference as Docker reads it (the agent's parser), trimmed, at most 512 characters. */
export function imageReferenceSchema(emptyMessage?: string) {
  return text(z.string(), "an image reference")
    .trim()
    .min(1, emptyMessage)
    .max(512)
    .superRefine((value, ctx) => {
      const problem = imageReferenceProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}

// A deployment spec: what the deploy form, a pasted `docker run` and the API
// all produce, what the deploy policy judges, and what is saved for redeploy.
// Validated at every boundary with this one schema.

const absolutePath = text(z.string(), "a path").regex(/^\/[^\0]*$/, "must be an absolute path").max(4096);
const name = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "use letters, digits, _ . - (starting with a letter or digit)")
  .max(128);

export const envVarSchema = z.object({
  name: text(z.string(), "a variable name")
    .min(1, "enter a name")
    .max(256)
    .regex(/^[^=\0]+$/, "a name can't contain = "),
  value: text(z.string().max(32 * 1024), "a variable value"),
  /** Stored sealed and shown masked. */
  secret: z.boolean().default(false),
});

export const portSchema = z.object({
  hostIp: text(z.string().max(45), "a host IP").optional(),
  /** Absent: the agent picks a free port. */
  hostPort: z.number().int().min(1).max(65535).optional(),
  containerPort: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "udp"]).default("tcp"),
});

export const mountSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("volume"), source: name.optional(), target: absolutePath, readOnly: z.boolean().default(false) }),
  z.object({ type: z.literal("bind"), source: absolutePath, target: absolutePath, readOnly: z.boolean().default(false) }),
  z.object({ type: z.literal("tmpfs"), target: absolutePath, sizeBytes: z.number().int().positive().optional() }),
]);

export const deviceSchema = z.object({
  hostPath: absolutePath,
  containerPath: absolutePath.optional(),
  permissions: z.string().regex(/^[rwm]{1,3}$/).default("rwm"),
});

export const healthcheckSchema = z.object({
  /** As Docker: ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]. */
  test: z.array(text(z.string().max(4096), "a health check argument")).min(1).max(64),
  intervalSeconds: z.number().positive().max(86_400).optional(),
  timeoutSeconds: z.number().positive().max(86_400).optional(),
  startPeriodSeconds: z.number().min(0).max(86_400).optional(),
  retries: z.number().int().min(0).max(100).optional(),
});

export const restartPolicySchema = z.object({
  name: z.enum(["no", "always", "unless-stopped", "on-failure"]).default("no"),
  maximumRetryCount: z.number().int().min(0).max(1000).optional(),
});

export const PULL_POLICIES = ["always", "missing", "never"] as const;

export const deploySpecSchema = z.object({
  image: imageReferenceSchema("enter an image, e.g. nginx:1.27 or registry.example.com/team/app@sha256:…"),
  pullPolicy: z.enum(PULL_POLICIES).default("missing"),
  /** A saved registry's credentials for the pull. */
  registryId: text(z.string().min(1).max(64), "a registry id").optional(),
  name: name.optional(),
  command: z.array(text(z.string().max(32 * 1024), "a command argument")).max(256).optional(),
  entrypoint: z.array(text(z.string().max(32 * 1024), "an entrypoint argument")).max(256).optional(),
  workingDir: absolutePath.optional(),
  user: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/, "user, uid, user:group or uid:gid")
    .max(128)
    .optional(),
  hostname: z
    .string()
    .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/, "not a valid hostname")
    .optional(),
  env: z.array(envVarSchema).max(500).default([]),
  ports: z.array(portSchema).max(200).default([]),
  mounts: z.array(mountSchema).max(100).default([]),
  /** "bridge" (default), "host", "none" or a network's name. */
  network: text(z.string().min(1).max(128), "a network name").optional(),
  aliases: z.array(name).max(20).default([]),
  restartPolicy: restartPolicySchema.default({ name: "no" }),
  memoryBytes: z.number().int().min(6 * 1024 * 1024, "at least 6 MiB").optional(),
  /** CPUs as a decimal (0.5 = half a CPU). */
  cpus: z.number().positive().max(1024).optional(),
  pidsLimit: z.number().int().min(1).max(4_194_304).optional(),
  labels: textRecord(z.string().min(1).max(256), z.string().max(4096), { key: "a label name", value: "a label value" }).default({}),
  privileged: z.boolean().default(false),
  capAdd: z.array(z.string().regex(/^(CAP_)?[A-Z_]+$|^ALL$/i, "a capability such as NET_ADMIN")).max(64).default([]),
  capDrop: z.array(z.string().regex(/^(CAP_)?[A-Z_]+$|^ALL$/i, "a capability such as NET_RAW")).max(64).default([]),
  pidMode: z.enum(["host"]).optional(),
  ipcMode: z.enum(["host"]).optional(),
  devices: z.array(deviceSchema).max(64).default([]),
  readOnlyRootfs: z.boolean().default(false),
  healthcheck: healthcheckSchema.optional(),
});

export type DeploySpec = z.infer<typeof deploySpecSchema>;
export type DeploySpecInput = z.input<typeof deploySpecSchema>;
export type PortSpec = z.infer<typeof portSchema>;
export type MountSpec = z.infer<typeof mountSchema>;
