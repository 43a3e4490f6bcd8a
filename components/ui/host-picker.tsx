import type { SelectHTMLAttributes } from "react";
import { Select } from "./field";

// The one way the console lets you choose a host: a select of names, each
// with a note when the host isn't connected ("web-1 (unreachable)"), and an
// optional first choice for none or all of them ("Any host").

export interface HostChoice {
  id: string;
  name: string;
  /** Shown after the name in brackets: why picking it may not work now. */
  note?: string | null;
}

export function HostPicker({
  hosts,
  value,
  onChange,
  emptyLabel,
  ...props
}: Omit<SelectHTMLAttributes<HTMLSelectElement>, "value" | "onChange"> & {
  hosts: HostChoice[];
  value: string;
  onChange: (hostId: string) => void;
  /** A first choice with the value "": "All hosts", "Any host", "Choose a host…". */
  emptyLabel?: string;
  "data-testid"?: string;
}) {
  return (
    <Select {...props} value={value} onChange={(e) => onChange(e.target.value)}>
      {emptyLabel !== undefined ? <option value="">{emptyLabel}</option> : null}
      {hosts.map((h) => (
        <option key={h.id} value={h.id}>
          {h.name}
          {h.note ? ` (${h.note})` : ""}
        </option>
      ))}
    </Select>
  );
}
