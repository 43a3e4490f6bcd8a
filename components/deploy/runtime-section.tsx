"use client";
import { Card } from "@/components/ui/card";
import { Field, Input, inputClass, Select } from "@/components/ui/field";
import type { DeployFormState } from "./form-state";
import type { SectionProps } from "./section";

/** The network it joins, when it restarts, and how much it may use. */
export function RuntimeSection({ form, update, errorOf }: SectionProps) {
  return (
    <Card title="Network, restart and limits">
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Network" hint={form.hostNetwork ? "The host network is chosen under Advanced." : "Empty: the default bridge. Or a network's name."} error={errorOf("network")}>
          <Input value={form.hostNetwork ? "host" : form.network} disabled={form.hostNetwork} onChange={(e) => update({ network: e.target.value }, "network")} placeholder="bridge" />
        </Field>
        <Field label="Network aliases" hint="Names other containers on the network use; separate with spaces." error={errorOf("aliases")}>
          <Input value={form.aliases} onChange={(e) => update({ aliases: e.target.value }, "aliases")} placeholder="api db" />
        </Field>
        <Field label="Restart policy" error={errorOf("restartPolicy")}>
          <Select value={form.restart} onChange={(e) => update({ restart: e.target.value as DeployFormState["restart"] }, "restartPolicy")}>
            <option value="no">Never restart</option>
            <option value="always">Always</option>
            <option value="unless-stopped">Unless stopped</option>
            <option value="on-failure">On failure</option>
          </Select>
        </Field>
        {form.restart === "on-failure" ? (
          <Field label="Maximum retries" hint="Empty: no limit." error={null}>
            <Input inputMode="numeric" value={form.maxRetries} onChange={(e) => update({ maxRetries: e.target.value }, "restartPolicy")} />
          </Field>
        ) : (
          <div className="hidden sm:block" />
        )}
        {/* The unit sits beside the label, not in it: the number's name stays "Memory limit". */}
        <div className="flex items-start gap-2">
          <div className="flex-1">
            <Field label="Memory limit" hint="Empty: no limit." error={errorOf("memoryBytes")}>
              <Input inputMode="decimal" value={form.memory} onChange={(e) => update({ memory: e.target.value }, "memoryBytes")} placeholder="512" />
            </Field>
          </div>
          <div className="mt-6 w-24 shrink-0">
            <select
              aria-label="Memory unit"
              className={inputClass}
              value={form.memoryUnit}
              onChange={(e) => update({ memoryUnit: e.target.value as DeployFormState["memoryUnit"] }, "memoryBytes")}
            >
              <option value="k">KiB</option>
              <option value="m">MiB</option>
              <option value="g">GiB</option>
            </select>
          </div>
        </div>
        <Field label="CPUs" hint="e.g. 0.5 for half a CPU; empty: no limit." error={errorOf("cpus")}>
          <Input inputMode="decimal" value={form.cpus} onChange={(e) => update({ cpus: e.target.value }, "cpus")} />
        </Field>
        <Field label="PIDs limit" hint="Most processes at once; empty: no limit." error={errorOf("pidsLimit")}>
          <Input inputMode="numeric" value={form.pidsLimit} onChange={(e) => update({ pidsLimit: e.target.value }, "pidsLimit")} />
        </Field>
      </div>
    </Card>
  );
}
