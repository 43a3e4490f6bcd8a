// npm run audit:verify: scripts/tasks/audit-verify.ts, once "server-only" resolves as in Next's server.
import { allowServerOnly } from "../server/boot/allow-server-only";

allowServerOnly();
await import("./tasks/audit-verify");
