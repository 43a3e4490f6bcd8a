import { db } from "@/server/db";

export const dynamic = "force-dynamic";

// Long enough for a busy database, short enough for a load balancer's probe.
const DATABASE_TIMEOUT_MS = 5_000;

/** 200 while the database answers; 503 while it doesn't (the embedded one is restarted meanwhile). */
export async function GET() {
  const headers = { "cache-control": "no-store" };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db().$queryRawUnsafe("SELECT 1"),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), DATABASE_TIMEOUT_MS);
      }),
    ]);
    return Response.json({ ok: true, database: "up" }, { headers });
  } catch {
    return Response.json({ ok: false, database: "unavailable" }, { status: 503, headers: { ...headers, "retry-after": "5" } });
  } finally {
    clearTimeout(timer);
  }
}
