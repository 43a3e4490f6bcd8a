"use client";
import { inputClass } from "@/components/ui/field";
import { emptyEnv, emptyLabel, emptyMount, emptyPort, type MountRow } from "./form-state";
import { RowsCard, type SetRow } from "./row-list";
import type { SectionProps } from "./section";

// The sections of the deploy form that are lists: environment variables,
// published ports, mounts and labels.

export function EnvSection(section: SectionProps) {
  return (
    <RowsCard
      {...section}
      title="Environment variables"
      addLabel="Add variable"
      empty="No variables. Secret values are stored sealed and never shown again."
      add={emptyEnv}
      list="env"
      noun="variable"
      fields={["name", "value"]}
    >
      {(row, n, setRow, error) => (
        <>
          <input
            aria-label={`Variable ${n} name`}
            className={`${inputClass} font-mono sm:w-56`}
            value={row.name}
            placeholder="NAME"
            onChange={(e) => setRow({ name: e.target.value }, "name")}
            aria-invalid={Boolean(error)}
            spellCheck={false}
          />
          <input
            aria-label={`Variable ${n} value`}
            // A secret is masked once typed; the server keeps it sealed and never sends it back.
            type={row.secret ? "password" : "text"}
            autoComplete={row.secret ? "new-password" : "off"}
            className={`${inputClass} font-mono`}
            value={row.value}
            placeholder="value"
            onChange={(e) => setRow({ value: e.target.value }, "value")}
            spellCheck={false}
          />
          <label className="flex shrink-0 items-center gap-1.5 text-sm">
            <input type="checkbox" checked={row.secret} onChange={(e) => setRow({ secret: e.target.checked }, "secret")} />
            Secret
          </label>
        </>
      )}
    </RowsCard>
  );
}

export function PortsSection(section: SectionProps) {
  return (
    <RowsCard
      {...section}
      title="Published ports"
      addLabel="Add port"
      empty="No ports published. Add one to reach the container from outside its host."
      add={emptyPort}
      list="ports"
      noun="port"
      fields={["hostPort", "containerPort", "hostIp"]}
    >
      {(row, n, setRow) => (
        <>
          <input aria-label={`Host IP ${n}`} className={`${inputClass} sm:w-36`} value={row.hostIp} placeholder="all addresses" onChange={(e) => setRow({ hostIp: e.target.value }, "hostIp")} />
          <input
            aria-label={`Host port ${n}`}
            inputMode="numeric"
            className={`${inputClass} sm:w-32`}
            value={row.hostPort}
            placeholder="host port"
            onChange={(e) => setRow({ hostPort: e.target.value }, "hostPort")}
          />
          <span className="hidden text-slate-400 sm:inline" aria-hidden>
            →
          </span>
          <input
            aria-label={`Container port ${n}`}
            inputMode="numeric"
            className={`${inputClass} sm:w-32`}
            value={row.containerPort}
            placeholder="container port"
            onChange={(e) => setRow({ containerPort: e.target.value }, "containerPort")}
          />
          <select aria-label={`Protocol ${n}`} className={`${inputClass} sm:w-24`} value={row.protocol} onChange={(e) => setRow({ protocol: e.target.value as "tcp" | "udp" }, "protocol")}>
            <option value="tcp">tcp</option>
            <option value="udp">udp</option>
          </select>
        </>
      )}
    </RowsCard>
  );
}

export function MountsSection(section: SectionProps) {
  return (
    <RowsCard
      {...section}
      title="Volumes, bind mounts and tmpfs"
      addLabel="Add mount"
      empty="Nothing mounted: the container's files live and die with it."
      add={emptyMount}
      list="mounts"
      noun="mount"
      fields={["source", "target", "sizeBytes"]}
    >
      {(row, n, setRow) => <MountFields row={row} n={n} setRow={setRow} />}
    </RowsCard>
  );
}

function MountFields({ row, n, setRow }: { row: MountRow; n: number; setRow: SetRow<MountRow> }) {
  return (
    <>
      <select aria-label={`Mount ${n} type`} className={`${inputClass} sm:w-28`} value={row.type} onChange={(e) => setRow({ type: e.target.value as MountRow["type"] }, "type")}>
        <option value="volume">volume</option>
        <option value="bind">bind</option>
        <option value="tmpfs">tmpfs</option>
      </select>
      {row.type === "tmpfs" ? null : (
        <input
          aria-label={`Mount ${n} source`}
          className={`${inputClass} font-mono`}
          value={row.source}
          placeholder={row.type === "bind" ? "/path/on/host" : "volume name (empty: a new one)"}
          onChange={(e) => setRow({ source: e.target.value }, "source")}
        />
      )}
      <input aria-label={`Mount ${n} target`} className={`${inputClass} font-mono`} value={row.target} placeholder="/path/in/container" onChange={(e) => setRow({ target: e.target.value }, "target")} />
      {row.type === "tmpfs" ? (
        <input aria-label={`Mount ${n} size`} className={`${inputClass} sm:w-28`} value={row.size} placeholder="size, e.g. 64m" onChange={(e) => setRow({ size: e.target.value }, "sizeBytes")} />
      ) : (
        <label className="flex shrink-0 items-center gap-1.5 text-sm">
          <input type="checkbox" checked={row.readOnly} onChange={(e) => setRow({ readOnly: e.target.checked }, "readOnly")} />
          Read-only
        </label>
      )}
    </>
  );
}

export function LabelsSection(section: SectionProps) {
  return (
    <RowsCard {...section} title="Labels" addLabel="Add label" empty="No labels. Labels let you filter the containers list." add={emptyLabel} list="labels" noun="label" fields={[]}>
      {(row, n, setRow) => (
        <>
          <input aria-label={`Label ${n} key`} className={`${inputClass} font-mono sm:w-64`} value={row.name} placeholder="com.example.team" onChange={(e) => setRow({ name: e.target.value })} />
          <input aria-label={`Label ${n} value`} className={`${inputClass} font-mono`} value={row.value} placeholder="value" onChange={(e) => setRow({ value: e.target.value })} />
        </>
      )}
    </RowsCard>
  );
}
