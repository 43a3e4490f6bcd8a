// npm run db:migrate: scripts/tasks/db-migrate.ts, once "server-only" resolves as in Next's server.
import { allowServerOnly } from "../server/boot/allow-server-only";

allowServerOnly();
await import("./tasks/db-migrate");
