"use client";
import { CollapsibleCard } from "@/components/ui/card";
import { Field, Input, inputClass, Select } from "@/components/ui/field";
import { CheckboxField } from "@/components/ui/form";
import { emptyDevice, type DeployFormState } from "./form-state";
import { AddButton, RowList } from "./row-list";
import type { SectionProps } from "./section";

/** What reaches past the container (privileges, host namespaces, devices) and its health check: closed until wanted. */
export function AdvancedSection({ open, onToggle, ...section }: SectionProps & { open: boolean; onToggle: (open: boolean) => void }) {
  const { form, update, errorOf } = section;
  return (
    <CollapsibleCard title="Advanced: privileges, host namespaces, devices, health check" open={open} onToggle={onToggle}>
      <div className="space-y-5">
        <div className="grid gap-3 sm:grid-cols-2">
          <CheckboxField label="Privileged" hint="Every capability and device: effectively root on the host." checked={form.privileged} onChange={(v) => update({ privileged: v }, "privileged")} error={errorOf("privileged")} />
          <CheckboxField
            label="Read-only root filesystem"
            hint="Writes only to mounts and tmpfs."
            checked={form.readOnlyRootfs}
            onChange={(v) => update({ readOnlyRootfs: v }, "readOnlyRootfs")}
            error={errorOf("readOnlyRootfs")}
          />
          <CheckboxField
            label="Host network"
            hint="Share the host's network stack; ports aren't published."
            checked={form.hostNetwork}
            onChange={(v) => update({ hostNetwork: v }, "network")}
            error={form.hostNetwork ? errorOf("network") : null}
          />
          <CheckboxField label="Host PID namespace" hint="See and signal the host's processes." checked={form.pidHost} onChange={(v) => update({ pidHost: v }, "pidMode")} error={errorOf("pidMode")} />
          <CheckboxField label="Host IPC namespace" checked={form.ipcHost} onChange={(v) => update({ ipcHost: v }, "ipcMode")} error={errorOf("ipcMode")} />
        </div>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Add capabilities" hint="e.g. NET_ADMIN SYS_TIME, separated by spaces." error={errorOf("capAdd")}>
            <Input value={form.capAdd} onChange={(e) => update({ capAdd: e.target.value }, "capAdd")} className="font-mono" spellCheck={false} />
          </Field>
          <Field label="Drop capabilities" hint="e.g. NET_RAW, or ALL." error={errorOf("capDrop")}>
            <Input value={form.capDrop} onChange={(e) => update({ capDrop: e.target.value }, "capDrop")} className="font-mono" spellCheck={false} />
          </Field>
        </div>
        <div className="space-y-2">
          <div className="flex items-center justify-between">
            <h3 className="text-sm font-medium text-slate-700 dark:text-slate-300">Devices</h3>
            <AddButton label="Add device" onClick={() => update({ devices: [...form.devices, emptyDevice()] })} />
          </div>
          <RowList {...section} list="devices" noun="device" fields={["hostPath", "containerPath", "permissions"]}>
            {(row, n, setRow) => (
              <>
                <input aria-label={`Device ${n} host path`} className={`${inputClass} font-mono`} value={row.hostPath} placeholder="/dev/ttyUSB0" onChange={(e) => setRow({ hostPath: e.target.value }, "hostPath")} />
                <input
                  aria-label={`Device ${n} container path`}
                  className={`${inputClass} font-mono`}
                  value={row.containerPath}
                  placeholder="same as on the host"
                  onChange={(e) => setRow({ containerPath: e.target.value }, "containerPath")}
                />
                <input aria-label={`Device ${n} permissions`} className={`${inputClass} font-mono sm:w-20`} value={row.permissions} onChange={(e) => setRow({ permissions: e.target.value }, "permissions")} />
              </>
            )}
          </RowList>
        </div>
        <HealthCheck {...section} />
      </div>
    </CollapsibleCard>
  );
}

function HealthCheck({ form, update, errorOf }: SectionProps) {
  return (
    <div className="space-y-3">
      <Field label="Health check" error={null}>
        <Select value={form.healthMode} onChange={(e) => update({ healthMode: e.target.value as DeployFormState["healthMode"] }, "healthcheck.test")}>
          <option value="image">The image&apos;s own (if any)</option>
          <option value="command">A command</option>
          <option value="none">None (disable the image&apos;s)</option>
        </Select>
      </Field>
      {form.healthMode === "command" ? (
        <div className="grid gap-4 sm:grid-cols-2">
          <div className="sm:col-span-2">
            <Field label="Health command" hint="Run by a shell in the container; exit 0 means healthy." error={errorOf("healthcheck.test")}>
              <Input value={form.healthCmd} onChange={(e) => update({ healthCmd: e.target.value }, "healthcheck.test")} className="font-mono" placeholder="wget -qO- http://localhost/ || exit 1" spellCheck={false} />
            </Field>
          </div>
          <Field label="Interval" hint="e.g. 30s" error={errorOf("healthcheck.intervalSeconds")}>
            <Input value={form.healthInterval} onChange={(e) => update({ healthInterval: e.target.value }, "healthcheck.intervalSeconds")} />
          </Field>
          <Field label="Timeout" hint="e.g. 5s" error={errorOf("healthcheck.timeoutSeconds")}>
            <Input value={form.healthTimeout} onChange={(e) => update({ healthTimeout: e.target.value }, "healthcheck.timeoutSeconds")} />
          </Field>
          <Field label="Start period" hint="Failures don't count for this long after start." error={errorOf("healthcheck.startPeriodSeconds")}>
            <Input value={form.healthStartPeriod} onChange={(e) => update({ healthStartPeriod: e.target.value }, "healthcheck.startPeriodSeconds")} />
          </Field>
          <Field label="Retries" error={errorOf("healthcheck.retries")}>
            <Input inputMode="numeric" value={form.healthRetries} onChange={(e) => update({ healthRetries: e.target.value }, "healthcheck.retries")} />
          </Field>
        </div>
      ) : null}
    </div>
  );
}
