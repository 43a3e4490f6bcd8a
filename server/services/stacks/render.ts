import "server-only";
import { stringify } from "yaml";
import type { StackModel } from "../../../lib/compose/model";

// A version's rendered configuration: the model the files made, as YAML.
// It names Berth secrets, never holds their values (the model has none).
export function renderModel(model: StackModel): string {
  return stringify(model, { sortMapEntries: false, lineWidth: 0 });
}
