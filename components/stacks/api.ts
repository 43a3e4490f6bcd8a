"use client";
import type { inferRouterError } from "@trpc/server";
import type {
  DecorateMutationProcedure,
  DecorateQueryProcedure,
  DecorateRouterKeyable,
  DecorateSubscriptionProcedure,
  DefaultFeatureFlags,
} from "@trpc/tanstack-react-query";
import { useTRPC } from "@/components/trpc/client";
import type { StackSource } from "@/lib/compose/model";
import type { AppRouter } from "@/server/routers/_app";
import type {
  ApplyResult,
  SecretSummary,
  ServiceAction,
  StackCheck,
  StackDetail,
  StackLogLine,
  StackSummary,
  StackVersion,
  StackVersionSummary,
} from "./types";

// The stacks and secrets procedures, typed by the contract (common18.md)
// until server/routers/stacks.ts lands on main; then this returns
// `useTRPC().stacks` / `.secrets` as inferred and the mirror goes.

type Def<I, O> = { input: I; output: O; transformer: true; errorShape: inferRouterError<AppRouter>; featureFlags: DefaultFeatureFlags };
type Query<I, O> = DecorateQueryProcedure<Def<I, O>>;
type Mutation<I, O> = DecorateMutationProcedure<Def<I, O>>;
type Subscription<I, O> = DecorateSubscriptionProcedure<Def<I, AsyncIterable<O>>>;

export interface StacksProcedures extends DecorateRouterKeyable<DefaultFeatureFlags> {
  list: Query<{ hostId?: string; cursor?: string; limit?: number }, { items: StackSummary[]; nextCursor: string | null }>;
  get: Query<{ stackId: string }, StackDetail>;
  check: Query<{ hostId: string; name: string; source: StackSource }, StackCheck>;
  /** Apply (create or update): `stacks.apply` in the contract, `up` because tRPC reserves `apply` as a procedure name. */
  up: Mutation<{ hostId: string; name: string; source: StackSource; override?: boolean; removeOrphans?: boolean; progressToken?: string }, ApplyResult>;
  down: Mutation<{ stackId: string; volumes?: boolean }, { removed: number }>;
  rollback: Mutation<{ stackId: string; version: number; progressToken?: string }, ApplyResult>;
  versions: Query<{ stackId: string }, { items: StackVersionSummary[] }>;
  version: Query<{ stackId: string; version: number }, StackVersion>;
  serviceAction: Mutation<{ stackId: string; service: string; action: ServiceAction }, { containers: number }>;
  scale: Mutation<{ stackId: string; service: string; replicas: number }, { replicas: number }>;
  logs: Subscription<{ stackId: string; services?: string[]; tail?: number }, StackLogLine>;
}

export interface SecretsProcedures extends DecorateRouterKeyable<DefaultFeatureFlags> {
  list: Query<void, { items: SecretSummary[] }>;
  create: Mutation<{ name: string; value: string; description?: string }, unknown>;
  update: Mutation<{ id: string; value?: string; description?: string }, unknown>;
  delete: Mutation<{ id: string }, unknown>;
}

export function useStacksTRPC(): { stacks: StacksProcedures; secrets: SecretsProcedures } {
  const trpc = useTRPC() as unknown as { stacks: StacksProcedures; secrets: SecretsProcedures };
  return { stacks: trpc.stacks, secrets: trpc.secrets };
}
