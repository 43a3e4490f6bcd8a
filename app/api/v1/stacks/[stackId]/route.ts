import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.getStack, ({ caller, path }) => caller.stacks.get({ stackId: path.stackId }));

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.getStack.path);
