import { exportAudit } from "@/server/audit/export-response";

export const dynamic = "force-dynamic";

export const GET = exportAudit;
