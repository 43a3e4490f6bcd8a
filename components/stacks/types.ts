// What the stacks and secrets procedures take and answer (common18.md's
// contract), mirrored here until server/routers/stacks.ts lands on main;
// then these become the router's inferred types and this mirror goes.

import type { StackProblem, StackSource } from "@/lib/compose/model";

export type StackStatus = "running" | "partial" | "stopped" | "applying" | "failed" | "down";
export type ServiceHealth = "healthy" | "unhealthy" | "starting" | null;

export interface StackServiceSummary {
  name: string;
  replicas: number;
  running: number;
  health: ServiceHealth;
}

export interface StackSummary {
  id: string;
  name: string;
  hostId: string;
  hostName: string;
  status: StackStatus;
  services: StackServiceSummary[];
  version: number;
  updatedAt: string;
  updatedBy: string | null;
}

export interface StackContainer {
  id: string;
  name: string;
  number: number;
  state: string;
  status: string;
  health: string | null;
}

export interface StackDetail extends Omit<StackSummary, "services"> {
  source: StackSource;
  lastError: string | null;
  services: (StackServiceSummary & { image: string; containers: StackContainer[] })[];
}

export interface PolicyViolation {
  rule: string;
  field: string;
  message: string;
}

export interface StackCheck {
  problems: StackProblem[];
  services: { name: string; image: string; allowed: boolean; violations: PolicyViolation[] }[];
  mayOverride: boolean;
}

export interface ApplyResult {
  stackId: string;
  version: number;
  result: "applied" | "failed";
  error: string | null;
}

export interface StackVersionSummary {
  version: number;
  createdAt: string;
  createdBy: string | null;
  result: "applied" | "failed" | "pending";
  error: string | null;
  rollbackOf: number | null;
}

export interface StackVersion {
  version: number;
  source: StackSource;
  rendered: string;
}

export interface StackLogLine {
  service: string;
  container: string;
  stream: "stdout" | "stderr";
  time: string;
  line: string;
}

export interface SecretSummary {
  id: string;
  name: string;
  description: string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
  usedBy: number;
}

export type ServiceAction = "start" | "stop" | "restart";
