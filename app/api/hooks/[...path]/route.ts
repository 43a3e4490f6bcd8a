import { getFleet } from "@/server/fleet/instance";
import { defaultHookDeps, handleHookRequest } from "@/server/webhooks/deliver";

export const dynamic = "force-dynamic";

// Deploy webhooks: POST /api/hooks/<secret>, GET /api/hooks/<secret>/rollouts/<id>,
// POST /api/hooks/signed/<webhookId> (server/webhooks/deliver.ts).

type Context = { params: Promise<{ path?: string[] }> };

async function handle(req: Request, context: Context): Promise<Response> {
  const { path = [] } = await context.params;
  return handleHookRequest(defaultHookDeps(getFleet), req, path);
}

export { handle as GET, handle as POST, handle as PUT, handle as PATCH, handle as DELETE };
