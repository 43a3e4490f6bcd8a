import { expect } from "vitest";
import { loadStack } from "@/lib/compose/load";
import type { StackFile, StackModel, StackProblem, StackSource } from "@/lib/compose/model";

export function files(map: Record<string, string>): StackFile[] {
  return Object.entries(map).map(([path, content]) => ({ path, content }));
}

/** Loads a one-file stack (plus other files), expecting success. */
export function load(compose: string, others: Record<string, string> = {}, options: { env?: Record<string, string>; profiles?: string[]; stackName?: string } = {}): StackModel {
  const r = loadStack({ files: files({ "compose.yaml": compose, ...others }), profiles: options.profiles }, { stackName: options.stackName ?? "app", env: options.env });
  if (!r.ok) throw new Error(`expected the stack to load, got:\n${r.problems.map((p) => `${p.path} (line ${p.line}): ${p.message}`).join("\n")}`);
  return r.model;
}

export function problemsOf(source: StackSource | string, options: { env?: Record<string, string>; stackName?: string } = {}): StackProblem[] {
  const src = typeof source === "string" ? { files: files({ "compose.yaml": source }) } : source;
  const r = loadStack(src, { stackName: options.stackName ?? "app", env: options.env });
  expect(r.ok, "expected problems").toBe(false);
  return r.ok ? [] : r.problems;
}

export function service(model: StackModel, name: string) {
  const s = model.services.find((x) => x.name === name);
  if (!s) throw new Error(`no service ${name}`);
  return s;
}

export function envOf(model: StackModel, name: string): Record<string, string> {
  return Object.fromEntries(service(model, name).spec.env.map((e) => [e.name, e.value]));
}
