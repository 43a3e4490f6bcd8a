// `npm start`: the gateway (server/gateway.ts), once "server-only" resolves as in Next's server.
import { allowServerOnly } from "./boot/allow-server-only";

allowServerOnly();
await import("./gateway");
