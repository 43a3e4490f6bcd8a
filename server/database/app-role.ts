import "server-only";
import { withPgClient } from "./pg-client";
import pg from "pg";

// Two database roles. The owner (migration) role applies migrations and owns
// every table, trigger and function. The application role, which the gateway
// runs as, gets only the data rights it needs: on AuditEvent only INSERT and
// SELECT, on AuditIdGap and _prisma_migrations only SELECT; it owns nothing
// and isn't a member of the owner, so it can't UPDATE, DELETE or TRUNCATE the
// audit log, nor ALTER TABLE … DISABLE TRIGGER (that needs ownership), nor
// replace the trigger's function.

/** The embedded database's application role. */
export const EMBEDDED_APP_ROLE = "berth_app";

/** Tables the application role may read but never write. */
const READ_ONLY = ["AuditIdGap", "_prisma_migrations"];
/** Tables it may append to and read, nothing else. */
const APPEND_ONLY = ["AuditEvent"];


/** The role a connection URL logs in as. */
export function roleOfUrl(url: string): string {
  return decodeURIComponent(new URL(url).username);
}

/**
 * Creates the application role if it is missing (an existing data directory
 * upgrades here) and sets its password and attributes. Run as the owner.
 */
export async function ensureAppRole(ownerUrl: string, role: string, password: string): Promise<void> {
  await withPgClient(ownerUrl, async (c) => {
    const exists = (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount;
    const id = pg.escapeIdentifier(role);
    if (!exists) await c.query(`CREATE ROLE ${id} LOGIN`);
    await c.query(
      `ALTER ROLE ${id} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD ${pg.escapeLiteral(password)}`,
    );
  });
}

/**
 * Gives `role` exactly the rights above on the tables and sequences the
 * owner (the URL's role) owns in the current schema, revoking anything else
 * it held there. Idempotent; run after every migration, as the owner.
 */
export async function grantAppRights(ownerUrl: string, role: string): Promise<void> {
  await withPgClient(ownerUrl, async (c) => {
    const tables = (
      await c.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND pg_has_role(current_user, c.relowner, 'USAGE')`,
      )
    ).rows.map((r) => r.name);
    const sequences = (
      await c.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind = 'S' AND pg_has_role(current_user, c.relowner, 'USAGE')`,
      )
    ).rows.map((r) => r.name);
    const id = pg.escapeIdentifier(role);
    const schema = (await c.query<{ s: string }>("SELECT current_schema() AS s")).rows[0]!.s;
    const q = (name: string) => `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
    await c.query("BEGIN");
    try {
      await c.query(`GRANT USAGE ON SCHEMA ${pg.escapeIdentifier(schema)} TO ${id}`);
      for (const t of tables) {
        await c.query(`REVOKE ALL ON ${q(t)} FROM ${id}`);
        const rights = APPEND_ONLY.includes(t) ? "SELECT, INSERT" : READ_ONLY.includes(t) ? "SELECT" : "SELECT, INSERT, UPDATE, DELETE";
        await c.query(`GRANT ${rights} ON ${q(t)} TO ${id}`);
      }
      // nextval (autoincrement ids) and setval (the audit writer keeps AuditEvent's sequence at its head).
      for (const s of sequences) {
        await c.query(`REVOKE ALL ON SEQUENCE ${q(s)} FROM ${id}`);
        await c.query(`GRANT USAGE, SELECT, UPDATE ON SEQUENCE ${q(s)} TO ${id}`);
      }
      await c.query("COMMIT");
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
  });
}

/**
 * What the URL's role could do to the audit log beyond appending and
 * reading; empty when nothing. Checked at start-up: anything here means the
 * append-only trigger doesn't bind the gateway.
 */
export async function auditTamperRights(url: string): Promise<string[]> {
  return withPgClient(url, async (c) => {
    const { rows } = await c.query<Record<string, boolean>>(
      `SELECT r.rolsuper AS superuser,
              pg_has_role(current_user, t.relowner, 'MEMBER') AS owner,
              has_table_privilege(t.oid, 'UPDATE') AS "update",
              has_table_privilege(t.oid, 'DELETE') AS "delete",
              has_table_privilege(t.oid, 'TRUNCATE') AS "truncate",
              has_table_privilege(t.oid, 'TRIGGER') AS "trigger",
              has_table_privilege(g.oid, 'INSERT') OR has_table_privilege(g.oid, 'UPDATE') OR has_table_privilege(g.oid, 'DELETE') AS gaps,
              EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = 'berth_audit_append_only' AND pg_has_role(current_user, p.proowner, 'MEMBER')) AS "function"
         FROM pg_roles r, pg_class t, pg_class g
        WHERE r.rolname = current_user AND t.oid = to_regclass('"AuditEvent"') AND g.oid = to_regclass('"AuditIdGap"')`,
    );
    const row = rows[0];
    if (!row) return ["(the audit tables are missing)"];
    const names: Record<string, string> = {
      superuser: "act as a superuser",
      owner: "alter the AuditEvent table (it owns it: ALTER TABLE … DISABLE TRIGGER)",
      update: "UPDATE audit events",
      delete: "DELETE audit events",
      truncate: "TRUNCATE the audit log",
      trigger: "create triggers on the audit log",
      gaps: "write AuditIdGap (hide removed events)",
      function: "replace the append-only trigger's function",
    };
    return Object.keys(names).filter((k) => row[k]).map((k) => names[k]!);
  });
}
