import "server-only";
import { loadStack } from "../../../lib/compose/load";
import type { StackModel, StackProblem, StackSource } from "../../../lib/compose/model";
import { AppError } from "../../errors";

// A stack's files → its model, or a refusal that lists every problem with its
// file, line and key path (nothing is done on a host then).

export function describeProblem(p: StackProblem): string {
  const where = [p.file, p.line !== undefined ? `line ${p.line}` : undefined].filter(Boolean).join(", ");
  return `${where ? `${where}: ` : ""}${p.path ? `${p.path}: ` : ""}${p.message}`;
}

export function loadOrRefuse(source: StackSource, stackName: string): StackModel {
  const loaded = loadStack(source, { stackName });
  if (!loaded.ok) {
    const shown = loaded.problems.slice(0, 20).map(describeProblem);
    const more = loaded.problems.length > shown.length ? `\n…and ${loaded.problems.length - shown.length} more` : "";
    throw new AppError("BAD_REQUEST", `The stack's files can't be applied:\n${shown.join("\n")}${more}`);
  }
  return loaded.model;
}

/** The Berth secrets the model's services mount. */
export function secretNamesOf(model: StackModel): string[] {
  const names = new Set<string>();
  for (const s of model.services) for (const m of s.secrets) names.add(model.secrets[m.source]?.berthSecret ?? m.source);
  return [...names].sort();
}
