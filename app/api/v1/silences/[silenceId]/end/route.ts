import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const POST = endpointRoute(ENDPOINTS.endSilence, ({ caller, path, audit }) => {
  audit.target = { type: "silence", id: path.silenceId };
  return caller.alerts.endSilence({ id: path.silenceId });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.endSilence.path);
