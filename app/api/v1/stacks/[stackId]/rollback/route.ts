import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { streamStackApply } from "@/server/rest/stack-stream";

export const dynamic = "force-dynamic";

/** Answers NDJSON: per-service progress lines, then a result line. */
export const POST = endpointRoute(ENDPOINTS.rollbackStack, ({ caller, viewer, path, body, audit }) => {
  audit.target = { type: "stack", id: path.stackId };
  audit.params = { version: body.version };
  return streamStackApply({ userId: viewer.user.id, audit, run: (progressToken) => caller.stacks.rollback({ stackId: path.stackId, version: body.version, progressToken }) });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.rollbackStack.path);
