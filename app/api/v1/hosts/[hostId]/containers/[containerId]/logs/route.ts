import { endpointRoute, otherMethods } from "@/server/rest/endpoint";
import { ENDPOINTS } from "@/server/rest/endpoints";

export const dynamic = "force-dynamic";

export const GET = endpointRoute(ENDPOINTS.containerLogs, async ({ caller, path, query }) => {
  const { format, ...options } = query;
  const lines = await caller.containers.logs({ hostId: path.hostId, containerId: path.containerId, ...options });
  const headers = { "cache-control": "no-store" };
  if (format === "ndjson") {
    const body = lines.map((l) => JSON.stringify({ stream: l.stream, text: l.text }) + "\n").join("");
    return new Response(body, { headers: { ...headers, "content-type": "application/x-ndjson; charset=utf-8" } });
  }
  return new Response(lines.map((l) => l.text).join(""), { headers: { ...headers, "content-type": "text/plain; charset=utf-8" } });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods(ENDPOINTS.containerLogs.path);
