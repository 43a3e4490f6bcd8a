import { db } from "@/server/db";

export const dynamic = "force-dynamic";

export async function GET() {
  await db().$queryRawUnsafe("SELECT 1");
  return Response.json({ ok: true });
}
