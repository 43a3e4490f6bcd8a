import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.listSilences, ({ caller, query }) => caller.alerts.silences({ includeEnded: query.includeEnded ?? false }));

export const POST = endpointRoute(ENDPOINTS.createSilence, async ({ caller, body, audit }) => {
  const silence = await caller.alerts.silence(body);
  audit.target = { type: "silence", id: silence.id };
  return silence;
});

export const { PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.listSilences.path);
