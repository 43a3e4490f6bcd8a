import "server-only";
import { AppError } from "../errors";

/**
 * The /tokens endpoints through a token. tokens.manage is never usable by an
 * API token (NEVER_BY_TOKEN in server/tokens/scope.ts: a token minting tokens
 * could shed its own limits), so these always refuse — with a message that
 * says where tokens are managed — and restRoute audits the denial.
 */
export async function refuseTokenManagement(): Promise<never> {
  throw new AppError(
    "FORBIDDEN",
    "API tokens can't be listed, created or revoked with an API token (tokens.manage is never granted to a token). Manage them in the console: Settings → API tokens.",
  );
}
