import "server-only";
export type * from "../../lib/alerts/views";
