import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";
import { stackSourceSchema } from "@/server/services/stacks/schemas";
import { streamStackApply } from "@/server/rest/stack-stream";

export const dynamic = "force-dynamic";

/** Answers NDJSON: per-service progress lines, then a result line. */
export const POST = endpointRoute(ENDPOINTS.applyStack, ({ caller, viewer, path, body, audit }) => {
  audit.target = { type: "stack", id: body.name };
  audit.params = { name: body.name, files: body.source.files.map((f) => f.path), override: body.override, removeOrphans: body.removeOrphans };
  const source = stackSourceSchema.parse(body.source);
  return streamStackApply({
    userId: viewer.user.id,
    audit,
    run: (progressToken) => caller.stacks.up({ hostId: path.hostId, name: body.name, source, override: body.override, removeOrphans: body.removeOrphans, progressToken }),
  });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.applyStack.path);
