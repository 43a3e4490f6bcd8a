"use client";
import { useTRPC } from "@/components/trpc/client";

// The stacks and secrets procedures, for the console's components. (The
// contract's `stacks.apply` is `stacks.up`: tRPC reserves `apply`.)

export function useStacksTRPC() {
  const trpc = useTRPC();
  return { stacks: trpc.stacks, secrets: trpc.secrets };
}
