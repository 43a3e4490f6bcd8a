import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const POST = endpointRoute(ENDPOINTS.downStack, async ({ caller, path, body, audit }) => {
  audit.target = { type: "stack", id: path.stackId };
  audit.params = { volumes: body.volumes };
  return caller.stacks.down({ stackId: path.stackId, volumes: body.volumes });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.downStack.path);
