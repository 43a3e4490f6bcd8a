import "server-only";
export type * from "../../lib/rollouts/views";
export type { RolloutAccepted } from "../rollouts/types";
