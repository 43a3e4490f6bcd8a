import { exportAudit } from "@/server/audit/export-response";
import { db } from "@/server/db";
import { env } from "@/server/env";
import { refuseCrossOrigin } from "@/server/http/cross-origin-guard";

export const dynamic = "force-dynamic";

// A GET, but it acts: it writes an audit event and hands out the log. A page on
// another origin of the site could make the browser open it with the session
// cookie, so it must come from the console (its download link) or be opened directly.
export async function GET(req: Request): Promise<Response> {
  return (await refuseCrossOrigin(req, { db: db(), settings: env(), actions: ["audit.export"] })) ?? exportAudit(req);
}
