import { methodNotAllowed, restRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/hosts: the hosts this token may read, as the console's hosts.list returns them. */
export const GET = restRoute({ action: "api.v1.hosts.list" }, ({ caller }) => caller.hosts.list());

export const POST = methodNotAllowed(["GET"]);
export const PUT = POST;
export const PATCH = POST;
export const DELETE = POST;
