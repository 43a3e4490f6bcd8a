"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Field, FormError, Input, Select } from "@/components/ui/field";
import { CheckboxField, FormActions, FormPanel } from "@/components/ui/form";
import type { ChannelView } from "./shared";

// A channel's editor, per kind. Secrets (a webhook's signing key, a Slack
// hook's URL, the SMTP password) go one way: typed or generated here, sealed
// on the server, never shown again. Editing keeps them unless new ones are typed.

type Kind = ChannelView["kind"];
type Security = "starttls" | "tls" | "none";

interface Draft {
  name: string;
  kind: Kind;
  enabled: boolean;
  url: string;
  secret: string;
  host: string;
  port: string;
  security: Security;
  username: string;
  password: string;
  from: string;
  to: string;
}

const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

function draftOf(channel: ChannelView | null): Draft {
  const c = channel?.config ?? {};
  const to = Array.isArray(c.to) ? (c.to as unknown[]).map(str).join(", ") : str(c.to);
  return {
    name: channel?.name ?? "",
    kind: channel?.kind ?? "webhook",
    enabled: channel?.enabled ?? true,
    // A webhook's URL may be shown (its secret is apart); a Slack hook's URL is the secret.
    url: channel?.kind === "webhook" ? str(c.url) : "",
    secret: "",
    host: str(c.host),
    port: str(c.port) || "587",
    security: (["starttls", "tls", "none"].includes(str(c.security)) ? str(c.security) : "starttls") as Security,
    username: str(c.username),
    password: "",
    from: str(c.from),
    to,
  };
}

/** 32 random bytes as hex, from the browser's CSPRNG: the webhook's HMAC key. */
export function generateSecret(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function configOf(d: Draft) {
  switch (d.kind) {
    case "webhook":
      return { kind: "webhook" as const, url: d.url.trim(), ...(d.secret ? { secret: d.secret } : {}) };
    case "slack":
      return { kind: "slack" as const, ...(d.url.trim() ? { url: d.url.trim() } : {}) };
    case "email":
      return {
        kind: "email" as const,
        host: d.host.trim(),
        port: Number(d.port),
        security: d.security,
        ...(d.username.trim() ? { username: d.username.trim() } : {}),
        ...(d.password ? { password: d.password } : {}),
        from: d.from.trim(),
        to: d.to
          .split(/[\s,;]+/)
          .map((s) => s.trim())
          .filter(Boolean),
      };
  }
}

export function ChannelForm({
  channel,
  onDone,
  onCancel,
}: {
  channel: ChannelView | null;
  /** The message to show, and the webhook secret to show once when one was just set. */
  onDone: (message: string, secretShownOnce: string | null) => void;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(channel));
  const refresh = () => qc.invalidateQueries(trpc.channels.list.pathFilter());
  // The secret typed or generated here, or the one the server made for a new webhook channel without one: shown once.
  const shownSecret = (generated?: string | null) => (draft.kind === "webhook" ? draft.secret || generated || null : null);
  const create = useMutation(
    trpc.channels.create.mutationOptions({
      onSuccess: async (c) => (await refresh(), onDone(`Saved channel ${c.name}.`, shownSecret((c as { generatedSecret?: string | null }).generatedSecret))),
    }),
  );
  const update = useMutation(trpc.channels.update.mutationOptions({ onSuccess: async (c) => (await refresh(), onDone(`Updated channel ${c.name}.`, shownSecret())) }));
  const mutation = channel ? update : create;
  const errors = fieldErrors(mutation.error);
  const set = (k: keyof Draft) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setDraft({ ...draft, [k]: e.target.value });
  const keep = channel?.hasSecret ? "set — leave empty to keep" : undefined;

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const config = configOf(draft);
    if (channel) update.mutate({ id: channel.id, name: draft.name.trim(), enabled: draft.enabled, config });
    else create.mutate({ name: draft.name.trim(), enabled: draft.enabled, config });
  };

  return (
    <FormPanel title={channel ? `Edit channel ${channel.name}` : "New channel"} onSubmit={submit}>
      <div className="grid gap-3 md:grid-cols-2">
        <Field label="Name" error={errors.name}>
          <Input value={draft.name} onChange={set("name")} required maxLength={100} autoComplete="off" />
        </Field>
        <Field label="Kind" hint={channel ? "A saved channel keeps its kind." : undefined}>
          <Select value={draft.kind} onChange={set("kind")} disabled={Boolean(channel)}>
            <option value="webhook">Webhook (JSON, HMAC-SHA256 signed)</option>
            <option value="slack">Slack-compatible incoming webhook</option>
            <option value="email">Email (SMTP)</option>
          </Select>
        </Field>

        {draft.kind === "webhook" ? (
          <>
            <Field
              label="URL"
              hint={channel ? "Where the JSON is POSTed. A query string isn't shown (it may hold a token): type the whole URL again if it had one." : "Where the JSON is POSTed."}
              error={errors["config.url"]}
            >
              <Input type="url" value={draft.url} onChange={set("url")} required maxLength={2048} spellCheck={false} placeholder="https://hooks.example.com/berth" />
            </Field>
            <div className="space-y-1">
              <Field
                label="Signing secret"
                hint={
                  keep
                    ? "Set — leave empty to keep it. It is never shown again."
                    : "At least 16 characters; leave empty to have one generated. Receivers verify the HMAC-SHA256 signature header with it. It is shown once, after saving."
                }
                error={errors["config.secret"]}
              >
                <Input
                  value={draft.secret}
                  onChange={set("secret")}
                  minLength={16}
                  maxLength={256}
                  autoComplete="off"
                  spellCheck={false}
                  className="font-mono text-xs"
                  placeholder={keep ? "•••••• (set — leave empty to keep)" : undefined}
                />
              </Field>
              <Button variant="ghost" size="xs" onClick={() => setDraft({ ...draft, secret: generateSecret() })}>
                {keep ? "Generate a new secret" : "Generate a secret"}
              </Button>
            </div>
          </>
        ) : null}

        {draft.kind === "slack" ? (
          <Field label="Webhook URL" hint={keep ? "Set — leave empty to keep it. It is a secret: never shown again." : "The incoming-webhook URL; it is a secret and never shown again."} error={errors["config.url"]}>
            <Input
              type="password"
              value={draft.url}
              onChange={set("url")}
              required={!channel}
              maxLength={2048}
              autoComplete="off"
              spellCheck={false}
              placeholder={keep ? "•••••• (set — leave empty to keep)" : "https://hooks.slack.com/services/…"}
            />
          </Field>
        ) : null}

        {draft.kind === "email" ? (
          <>
            <Field label="SMTP host" error={errors["config.host"]}>
              <Input value={draft.host} onChange={set("host")} required maxLength={253} spellCheck={false} placeholder="smtp.example.com" />
            </Field>
            <Field label="Port" error={errors["config.port"]}>
              <Input type="number" min={1} max={65535} value={draft.port} onChange={set("port")} required />
            </Field>
            <Field label="Security" hint="STARTTLS on 587 or 25; TLS from the start on 465; none only on a trusted network." error={errors["config.security"]}>
              <Select value={draft.security} onChange={set("security")}>
                <option value="starttls">STARTTLS</option>
                <option value="tls">TLS</option>
                <option value="none">None</option>
              </Select>
            </Field>
            <Field label="SMTP user name" hint="Empty: no authentication." error={errors["config.username"]}>
              <Input value={draft.username} onChange={set("username")} maxLength={256} autoComplete="off" />
            </Field>
            <Field label="SMTP password" hint={keep ? "Set — leave empty to keep it. It is never shown." : "Sealed on the server; never shown again."} error={errors["config.password"]}>
              <Input type="password" value={draft.password} onChange={set("password")} maxLength={1024} autoComplete="new-password" placeholder={keep ? "•••••• (set — leave empty to keep)" : undefined} />
            </Field>
            <Field label="From" error={errors["config.from"]}>
              <Input type="email" value={draft.from} onChange={set("from")} required maxLength={256} placeholder="berth@example.com" />
            </Field>
            <Field label="To" hint="One or more addresses, separated by commas." error={errors["config.to"] ?? errors["config.to.0"]}>
              <Input value={draft.to} onChange={set("to")} required placeholder="ops@example.com, oncall@example.com" />
            </Field>
          </>
        ) : null}
      </div>
      <CheckboxField label="Enabled" hint="A disabled channel receives nothing." checked={draft.enabled} onChange={(enabled) => setDraft({ ...draft, enabled })} />
      <FormError message={mutation.error && Object.keys(errors).length === 0 ? errorMessage(mutation.error) : null} />
      <FormActions submitLabel={channel ? "Save changes" : "Save channel"} pendingLabel="Saving…" pending={mutation.isPending} onCancel={onCancel} />
    </FormPanel>
  );
}
