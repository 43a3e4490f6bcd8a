"use client";
import { useMemo } from "react";
import { useDebounced } from "@/components/ui/use-debounced";
import { loadStack } from "@/lib/compose/load";
import type { LoadResult, StackSource } from "@/lib/compose/model";

// Validation as you type: the same loader the server runs (pure, so it runs
// here too), once typing pauses. The server checks again on apply.

const VALIDATE_DEBOUNCE_MS = 300;

export interface Validation {
  /** The result for what was typed VALIDATE_DEBOUNCE_MS ago, or null before the first. */
  result: LoadResult | null;
  /** What was typed since is not judged yet. */
  pending: boolean;
}

export function useStackValidation(source: StackSource, stackName: string): Validation {
  const key = JSON.stringify({ source, stackName });
  const settled = useDebounced(key, VALIDATE_DEBOUNCE_MS);
  const result = useMemo<LoadResult>(() => {
    const input = JSON.parse(settled) as { source: StackSource; stackName: string };
    try {
      return loadStack(input.source, { stackName: input.stackName || "stack" });
    } catch (err) {
      // A loader bug must not look like a valid file.
      return { ok: false, problems: [{ path: "", message: `The file could not be checked: ${err instanceof Error ? err.message : String(err)}` }] };
    }
  }, [settled]);
  return { result, pending: settled !== key };
}
