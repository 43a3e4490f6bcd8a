"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { Input, Select } from "@/components/ui/field";

// Where a rule or a silence applies: every host, a host group or one host.
// The value is a scope key ("all", "hostGroup:<id>", "host:<id>"); "" means
// "any" where the caller allows it (a silence by rule or labels only).

export function ScopePicker({
  value,
  onChange,
  anyLabel,
  id,
  "aria-label": ariaLabel,
}: {
  value: string;
  onChange: (scopeKey: string) => void;
  /** When given, a first choice with the value "" (no scope). */
  anyLabel?: string;
  id?: string;
  "aria-label"?: string;
}) {
  const trpc = useTRPC();
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  const groups = useQuery({ ...trpc.hosts.groups.queryOptions(), retry: false });
  // Without hosts.read the names can't be listed: the key is typed instead.
  if (hosts.error && groups.error) {
    return <Input id={id} aria-label={ariaLabel} value={value} onChange={(e) => onChange(e.target.value)} placeholder="all, hostGroup:<id> or host:<id>" spellCheck={false} />;
  }
  const known = new Set(["all", ...(groups.data ?? []).map((g) => `hostGroup:${g.id}`), ...(hosts.data ?? []).map((h) => `host:${h.id}`)]);
  return (
    <Select id={id} aria-label={ariaLabel} value={value} onChange={(e) => onChange(e.target.value)}>
      {anyLabel !== undefined ? <option value="">{anyLabel}</option> : null}
      <option value="all">All hosts</option>
      {groups.data && groups.data.length > 0 ? (
        <optgroup label="Host groups">
          {groups.data.map((g) => (
            <option key={g.id} value={`hostGroup:${g.id}`}>
              group {g.name}
            </option>
          ))}
        </optgroup>
      ) : null}
      {hosts.data && hosts.data.length > 0 ? (
        <optgroup label="Hosts">
          {hosts.data.map((h) => (
            <option key={h.id} value={`host:${h.id}`}>
              host {h.name}
            </option>
          ))}
        </optgroup>
      ) : null}
      {value && !known.has(value) ? <option value={value}>{value}</option> : null}
    </Select>
  );
}

/** A scope key as people read it ("all hosts", "group web", "host db-1"), from the names the viewer can list. */
export function useScopeLabel(): (scopeKey: string | null) => string {
  const trpc = useTRPC();
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  const groups = useQuery({ ...trpc.hosts.groups.queryOptions(), retry: false });
  return (scopeKey) => {
    if (!scopeKey) return "any scope";
    if (scopeKey === "all") return "all hosts";
    if (scopeKey.startsWith("host:")) return `host ${hosts.data?.find((h) => h.id === scopeKey.slice(5))?.name ?? scopeKey.slice(5)}`;
    if (scopeKey.startsWith("hostGroup:")) return `group ${groups.data?.find((g) => g.id === scopeKey.slice(10))?.name ?? scopeKey.slice(10)}`;
    return scopeKey;
  };
}
