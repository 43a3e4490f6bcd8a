import type { SelectHTMLAttributes } from "react";
import { Select } from "@/components/ui/field";

// The one way the console lets you choose saved registry credentials (for a
// pull, a push or a deploy): "name (address)", and optionally none of them.

export interface RegistryChoice {
  id: string;
  name: string;
  address: string;
}

export function RegistryPicker({
  registries,
  value,
  onChange,
  noneLabel,
  ...props
}: Omit<SelectHTMLAttributes<HTMLSelectElement>, "value" | "onChange"> & {
  registries: RegistryChoice[];
  value: string;
  onChange: (registryId: string) => void;
  /** A first choice with the value "", for no credentials: "None (anonymous)". */
  noneLabel?: string;
}) {
  return (
    <Select {...props} value={value} onChange={(e) => onChange(e.target.value)}>
      {noneLabel !== undefined ? <option value="">{noneLabel}</option> : null}
      {registries.map((r) => (
        <option key={r.id} value={r.id}>
          {r.name} ({r.address})
        </option>
      ))}
    </Select>
  );
}
