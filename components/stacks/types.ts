import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/routers/_app";

// The stacks and secrets procedures' answers, as the router declares them
// (server/routers/stacks.ts, secrets.ts), named for the console's components.

type Out = inferRouterOutputs<AppRouter>;
type In = inferRouterInputs<AppRouter>;

export type StackSummary = Out["stacks"]["list"]["items"][number];
export type StackStatus = StackSummary["status"];
export type StackServiceSummary = StackSummary["services"][number];
export type ServiceHealth = StackServiceSummary["health"];
export type StackDetail = Out["stacks"]["get"];
export type StackCheck = Out["stacks"]["check"];
export type PolicyViolation = StackCheck["services"][number]["violations"][number];
/** What stacks.up (the contract's `apply`) and stacks.rollback answer. */
export type ApplyResult = Out["stacks"]["up"];
export type StackVersionSummary = Out["stacks"]["versions"]["items"][number];
export type StackLogLine = Out["stacks"]["logs"] extends AsyncIterable<infer T> ? T : never;
export type ServiceAction = In["stacks"]["serviceAction"]["action"];
export type SecretSummary = Out["secrets"]["list"]["items"][number];
