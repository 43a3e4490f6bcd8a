import type { DeployFormState } from "./form-state";

// What every section of the deploy form gets from the form: its state, the
// way to change it (naming the fields touched), and the message to show under
// a field (the server's, the policy's, then the form's own).

export interface SectionProps {
  form: DeployFormState;
  update: (patch: Partial<DeployFormState>, ...fields: string[]) => void;
  errorOf: (field: string, ...aliases: string[]) => string | null;
}
