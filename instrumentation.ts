// Next calls register() once when the server starts. The fleet starts here,
// inside Next's server bundle (where the routers use it), so hosts connect and
// "this machine"'s agent starts at boot rather than on the first request; the
// background work (rollout queue, registry watcher) starts once it is up.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || !process.env.DATABASE_URL) return;
  const { getFleet } = await import("./server/fleet/instance");
  const { startBackgroundWork } = await import("./server/background");
  getFleet()
    .then((services) => startBackgroundWork(services))
    .catch((e: unknown) => console.error("[berth] fleet failed to start:", e instanceof Error ? e.message : e));
}
