import "server-only";
import pg from "pg";

/** One short-lived connection for `fn` (migrations, role set-up, admin queries), always closed after. */
export async function withPgClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
