// What a failed tRPC call says, for the page. Pure: the UI kit uses it too.

/** The message of a failed tRPC call, fit for the page. */
export function errorMessage(error: unknown): string {
  if (error && typeof error === "object" && "message" in error) return String((error as { message: unknown }).message);
  return "Something went wrong.";
}

/**
 * Per-field messages of a failed call whose input the server rejected,
 * keyed by the dotted input path ("port", "agent.installDir").
 */
export function fieldErrors(error: unknown): Record<string, string> {
  const issues = (error as { data?: { issues?: unknown } } | null)?.data?.issues;
  if (!Array.isArray(issues)) return {};
  const out: Record<string, string> = {};
  for (const issue of issues as { path?: unknown; message?: unknown }[]) {
    if (!Array.isArray(issue.path) || typeof issue.message !== "string") continue;
    const key = issue.path.join(".");
    out[key] ??= issue.message;
  }
  return out;
}
