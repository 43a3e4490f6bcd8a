"use client";
import { Card } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import type { SectionProps } from "./section";

/** What runs in the container, as whom and where. `notes` say how a typed command was read. */
export function CommandSection({ form, update, errorOf, notes }: SectionProps & { notes: Record<string, string> }) {
  return (
    <Card title="Command">
      <div className="grid gap-4 sm:grid-cols-2">
        <div className="sm:col-span-2">
          <Field label="Command" hint={notes.command ?? "Replaces the image's command. One line, split like a shell: quote arguments with spaces."} error={errorOf("command")}>
            <Input
              value={form.command}
              onChange={(e) => update({ command: e.target.value }, "command")}
              placeholder={`sh -c 'echo hello && exec httpd -f'`}
              className="font-mono"
              spellCheck={false}
              autoComplete="off"
            />
          </Field>
        </div>
        <div className="sm:col-span-2">
          <Field label="Entrypoint" hint={notes.entrypoint ?? "Replaces the image's entrypoint (rarely needed)."} error={errorOf("entrypoint")}>
            <Input value={form.entrypoint} onChange={(e) => update({ entrypoint: e.target.value }, "entrypoint")} className="font-mono" spellCheck={false} autoComplete="off" />
          </Field>
        </div>
        <Field label="Working directory" error={errorOf("workingDir")}>
          <Input value={form.workingDir} onChange={(e) => update({ workingDir: e.target.value }, "workingDir")} placeholder="/app" />
        </Field>
        <Field label="User" hint="user, uid, user:group or uid:gid" error={errorOf("user")}>
          <Input value={form.user} onChange={(e) => update({ user: e.target.value }, "user")} placeholder="1000:1000" />
        </Field>
        <Field label="Hostname" error={errorOf("hostname")}>
          <Input value={form.hostname} onChange={(e) => update({ hostname: e.target.value }, "hostname")} />
        </Field>
      </div>
    </Card>
  );
}
