"use client";
import { hostChoice, statusOf, type HostItem } from "@/components/hosts/host-status";
import { RegistryPicker, type RegistryChoice } from "@/components/settings/registry-picker";
import { Card } from "@/components/ui/card";
import { Field, Input, Select } from "@/components/ui/field";
import { HostPicker } from "@/components/ui/host-picker";
import type { DeployFormState } from "./form-state";
import type { SectionProps } from "./section";

/** Where it runs and what: the host, the container's name, the image and how it is pulled. */
export function ImageSection({
  form,
  update,
  errorOf,
  hosts,
  registries,
  registriesFailed,
}: SectionProps & { hosts: HostItem[]; registries: RegistryChoice[]; registriesFailed: boolean }) {
  const host = hosts.find((h) => h.id === form.hostId);
  return (
    <Card title="Image">
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Host" error={errorOf("hostId")}>
          <HostPicker hosts={hosts.map(hostChoice)} value={form.hostId} onChange={(hostId) => update({ hostId }, "hostId")} emptyLabel="Choose a host…" data-testid="deploy-host" />
        </Field>
        <Field label="Container name" hint="Optional; a name is made from the image when empty." error={errorOf("name")}>
          <Input value={form.name} onChange={(e) => update({ name: e.target.value }, "name")} placeholder="web" autoComplete="off" />
        </Field>
        <div className="sm:col-span-2">
          <Field label="Image" hint="e.g. nginx:1.27 or registry.example.com/team/app:2.3" error={errorOf("image")}>
            <Input value={form.image} onChange={(e) => update({ image: e.target.value }, "image")} placeholder="nginx:1.27" autoComplete="off" spellCheck={false} />
          </Field>
        </div>
        <Field
          label="Registry credentials"
          hint={registriesFailed ? "Saved registries could not be read." : "For a private image: a saved registry's login."}
          error={errorOf("registryId")}
        >
          <RegistryPicker registries={registries} value={form.registryId} onChange={(registryId) => update({ registryId }, "registryId")} noneLabel="None (anonymous pull)" />
        </Field>
        <Field label="Pull policy" error={errorOf("pullPolicy")}>
          <Select value={form.pullPolicy} onChange={(e) => update({ pullPolicy: e.target.value as DeployFormState["pullPolicy"] }, "pullPolicy")}>
            <option value="missing">If missing on the host</option>
            <option value="always">Always pull</option>
            <option value="never">Never pull (use the host&apos;s copy)</option>
          </Select>
        </Field>
      </div>
      {host && host.status !== "connected" ? (
        <p role="status" className="mt-3 text-xs text-amber-700 dark:text-amber-400">
          {host.name} is {statusOf(host).label}: a deploy needs its agent to answer.
        </p>
      ) : null}
    </Card>
  );
}
