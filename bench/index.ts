// npm run bench: bench/run-all.ts, once "server-only" resolves as in Next's server.
import { allowServerOnly } from "../server/boot/allow-server-only";

allowServerOnly();
await import("./run-all");
