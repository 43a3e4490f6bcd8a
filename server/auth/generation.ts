import "server-only";
import type { Db } from "../db";

// A counter of changes that can alter who may do what: a token revoked or
// created, a user disabled, a role binding or a role changed, a host moved or
// removed. Anything that remembers an authentication result (the Docker-API
// proxy keeps one for up to a second) remembers the counter with it and
// throws the result away once the counter has moved.
//
// Two sources move it:
//  - in this process, the audit writer and token revocation (bumpAuthGeneration),
//    at once;
//  - in the database, the one-row "AccessGeneration" table, bumped by triggers
//    on ApiToken, User, Role, RoleBinding, Host and HostGroup (migration
//    20261130030000_access_generation), whoever made the change: another
//    gateway process, or SQL run by hand. syncAccessGeneration reads that row
//    (one primary-key read) and moves the local counter when it changed; a
//    cache calls it before every lookup it may answer from memory.
//
// Kept on globalThis: Next's server bundle (where the console's changes
// happen) and server/main.ts's module graph (where the proxy runs) load
// separate copies of this module in the one gateway process.

const holder = globalThis as unknown as { berthAuthGeneration?: number; berthAccessGenerationSeen?: string | null };

export function authGeneration(): number {
  return holder.berthAuthGeneration ?? 0;
}

export function bumpAuthGeneration(): void {
  holder.berthAuthGeneration = authGeneration() + 1;
}

/**
 * Reads the database's access generation and bumps the local counter when it
 * differs from the value seen last (or can't be read: then nothing remembered
 * is trusted). Returns the value read, or null.
 */
export async function syncAccessGeneration(db: Db): Promise<string | null> {
  let value: string | null = null;
  try {
    const rows = await db.$queryRaw<{ value: bigint | number | string }[]>`SELECT "value" FROM "AccessGeneration" WHERE "id" = 1`;
    value = rows[0] ? String(rows[0].value) : null;
  } catch {
    value = null;
  }
  if (value === null || value !== holder.berthAccessGenerationSeen) {
    bumpAuthGeneration();
    holder.berthAccessGenerationSeen = value;
  }
  return value;
}

/** Audit actions (every change is audited) whose change can alter access. */
const ACCESS_ACTIONS = /^(tokens|users|roles|hosts|setup|auth)\./;

export function changesAccess(action: string): boolean {
  return ACCESS_ACTIONS.test(action);
}
