import { notFoundRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

// Anything under /api/v1 that no resource answers: 401 without a token, else a JSON 404.
export { notFoundRoute as GET, notFoundRoute as POST, notFoundRoute as PUT, notFoundRoute as PATCH, notFoundRoute as DELETE };
