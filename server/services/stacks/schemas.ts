import "server-only";
import { z } from "zod";

// Inputs of the stacks procedures and REST endpoints (one set of schemas).

export const stackNameSchema = z
  .string()
  .min(1, "name the stack")
  .max(63)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, _ and - (starting with a letter or digit), as a compose project name");

const MAX_FILE_BYTES = 512 * 1024;

export const stackFileSchema = z.object({
  path: z
    .string()
    .min(1)
    .max(255)
    .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/, "a relative path such as compose.yaml, .env or config/app.env"),
  content: z.string().max(MAX_FILE_BYTES, `at most ${MAX_FILE_BYTES / 1024} KiB a file`),
});

export const stackSourceSchema = z.object({
  files: z.array(stackFileSchema).min(1, "give at least the compose file").max(20),
  composeFiles: z.array(z.string().min(1).max(255)).max(10).optional(),
  profiles: z.array(z.string().min(1).max(64).regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/)).max(20).optional(),
});

export const stackIdSchema = z.string().min(1).max(64);
export const progressTokenSchema = z.string().regex(/^[A-Za-z0-9-]{8,64}$/).optional();
