"use client";
import { applyProgress, type OperationProgressState, type ProgressEvent, useProgressStream } from "@/components/deploy/use-operation-progress";

// A stack apply's (or roll back's) live progress, per service: the same
// operations.progress stream a single deploy uses, its events carrying the
// service they are about. Subscribe first, then start with the token.

export type StackProgressEvent = ProgressEvent & { service?: string };

export interface StackProgressState {
  /** Services in the order first reported, each with its own phases and layers. */
  services: { name: string; progress: OperationProgressState }[];
  /** Messages about the stack as a whole (networks, volumes, orphans). */
  messages: string[];
}

const EMPTY: StackProgressState = { services: [], messages: [] };
const EMPTY_SERVICE: OperationProgressState = { phase: null, phases: [], layers: [], messages: [] };

export function applyStackProgress(state: StackProgressState, e: StackProgressEvent): StackProgressState {
  if (!e.service) return { ...state, messages: [...state.messages, e.message].filter(Boolean).slice(-100) };
  const at = state.services.findIndex((s) => s.name === e.service);
  const prev = at === -1 ? EMPTY_SERVICE : state.services[at]!.progress;
  const next = { name: e.service, progress: applyProgress(prev, e) };
  const services = at === -1 ? [...state.services, next] : state.services.map((s, i) => (i === at ? next : s));
  return { ...state, services };
}

const applyEvent = (state: StackProgressState, e: ProgressEvent) => applyStackProgress(state, e as StackProgressEvent);

export function useStackProgress() {
  const { progress, run } = useProgressStream(EMPTY, applyEvent);
  return { progress, run };
}
