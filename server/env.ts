import "server-only";
import path from "node:path";
import { z } from "zod";
import { decodeSecretKey } from "./secrets/cipher";

// Every setting Berth reads from the environment, validated once. A bad value
// fails start-up with the variable's name.
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

const envSchema = z
  .object({
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
        .optional(),
    ),
    // The role that applies migrations and owns the tables (with DATABASE_URL only): DATABASE_URL's role then
    // gets only the data rights it needs, so it can't alter or disable the audit log's append-only trigger.
    DATABASE_MIGRATION_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
        .optional(),
    ),
    HOST: z.string().default("127.0.0.1"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    BERTH_DATA_DIR: z.string().default(".data"),
    BERTH_PUBLIC_URL: optionalString.pipe(z.url().optional()),
    BERTH_ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
    BERTH_ADMIN_PASSWORD: optionalString.pipe(
      z.string().min(12, "must be at least 12 characters").optional(),
    ),
    AUTH_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
    // 32 bytes for AES-256-GCM, as 64 hex characters or base64 (e.g. `openssl rand -hex 32`).
    BERTH_SECRET_KEY: optionalString.pipe(
      z
        .string()
        .refine((v) => decodeSecretKey(v) !== null, "must be 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)")
        .optional(),
    ),
    // The Ed25519 key (32-byte seed) that signs audit checkpoints; default: a key file in the data directory.
    BERTH_AUDIT_CHECKPOINT_KEY: optionalString.pipe(
      z
        .string()
        .refine((v) => decodeSecretKey(v) !== null, "must be 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)")
        .optional(),
    ),
    BERTH_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    BERTH_AUDIT_CHECKPOINT_WEBHOOK: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    BERTH_SESSION_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(12),
    BERTH_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
    // Docker-API proxy requests per token: a refill rate per second and the burst a token may spend at once.
    BERTH_DOCKER_API_RATE: z.coerce.number().int().min(1).max(100_000).default(100),
    BERTH_DOCKER_API_BURST: z.coerce.number().int().min(1).max(1_000_000).default(600),
    // GET /metrics scrapes per token (Prometheus scrapes every 15–60 s): a refill rate per second and a burst.
    BERTH_METRICS_RATE: z.coerce.number().int().min(1).max(10_000).default(2),
    BERTH_METRICS_BURST: z.coerce.number().int().min(1).max(100_000).default(20),
    // How often the stats collector samples each host's containers (rows stay minute-aligned; short in tests).
    BERTH_STATS_INTERVAL_MS: z.coerce.number().int().min(500).max(3_600_000).default(60_000),
    BERTH_TRUST_PROXY: z
      .enum(["0", "1", "true", "false"])
      .default("false")
      .transform((v) => v === "1" || v === "true"),
  })
  .superRefine((env, ctx) => {
    if (env.DATABASE_MIGRATION_URL && !env.DATABASE_URL) {
      ctx.addIssue({ code: "custom", path: ["DATABASE_MIGRATION_URL"], message: "needs DATABASE_URL (the embedded database sets up its own roles)" });
    }
    if (Boolean(env.BERTH_ADMIN_EMAIL) !== Boolean(env.BERTH_ADMIN_PASSWORD)) {
      ctx.addIssue({
        code: "custom",
        path: [env.BERTH_ADMIN_EMAIL ? "BERTH_ADMIN_PASSWORD" : "BERTH_ADMIN_EMAIL"],
        message: "BERTH_ADMIN_EMAIL and BERTH_ADMIN_PASSWORD must be set together",
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new EnvError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}

let cached: Env | undefined;
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}

export function dataDir(e: Env = env()): string {
  return path.resolve(e.BERTH_DATA_DIR);
}
