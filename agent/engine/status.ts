// Container status: one internal enum, guards for each operation, and the
// translation to Docker's wire strings. Nothing else decides what is allowed.

export type Status = "created" | "running" | "paused" | "restarting" | "exited" | "removing" | "dead";

export const STATUSES: readonly Status[] = ["created", "running", "paused", "restarting", "exited", "removing", "dead"];

/** Docker's State.Status strings happen to be the same words; kept as a function so they can diverge. */
export function wireStatus(status: Status): string {
  return status;
}

export const isActive = (s: Status) => s === "running" || s === "paused" || s === "restarting";

export const canStart = (s: Status) => s === "created" || s === "exited";
export const canKill = (s: Status) => s === "running" || s === "paused" || s === "restarting";
export const canPause = (s: Status) => s === "running";
export const canUnpause = (s: Status) => s === "paused";
export const canExec = (s: Status) => s === "running";
/** Without force only stopped containers go; with force anything but one already going. */
export const canRemove = (s: Status, force: boolean) => (force ? s !== "removing" : !isActive(s) && s !== "removing");
