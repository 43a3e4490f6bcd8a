"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useRef, useState } from "react";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { RevokeControl } from "@/components/ui/revoke-control";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { cell, DataTable, QueryState } from "@/components/ui/data-table";
import { ErrorText, Note } from "@/components/ui/feedback";
import { Field, FormError, Input, inputClass, Select } from "@/components/ui/field";
import { FormActions, FormPanel } from "@/components/ui/form";
import type { AppRouter } from "@/server/routers/_app";

// The signed-in user's API tokens for /api/v1: list, create (the secret is
// shown once, here, and never again), revoke. Drop <TokensPanel /> into a page
// whose viewer holds tokens.manage.

type Outputs = inferRouterOutputs<AppRouter>["tokens"];
type Token = Outputs["list"][number];
type Options = Outputs["options"];

const EXPIRY_CHOICES = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "Never" },
] as const;

const STATUS_TONE = { active: "green", expired: "amber", revoked: "slate" } as const;

function formatDate(d: Date | string | null): string {
  return d ? new Date(d).toLocaleString() : "—";
}

export function TokensPanel() {
  const trpc = useTRPC();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);

  return (
    <Card
      title={<span id="api-tokens">API tokens</span>}
      actions={
        !creating && !created ? (
          <Button variant="secondary" onClick={() => setCreating(true)}>
            New token
          </Button>
        ) : null
      }
    >
      <div className="space-y-4">
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Tokens let scripts call the REST API at <span className="font-mono text-xs">/api/v1</span> with{" "}
          <span className="font-mono text-xs">Authorization: Bearer berth_…</span>. A token can do at most what you can do now: if you lose a role, your
          tokens lose it too. See the{" "}
          <a href="/api/v1/docs" className="underline">
            API reference
          </a>{" "}
          (or <a href="/api/v1/openapi.json" className="underline">openapi.json</a>).
        </p>
        {created ? <NewSecret name={created.name} secret={created.secret} onDone={() => setCreated(null)} /> : null}
        {creating ? (
          <CreateTokenForm
            onCreated={(name, secret) => {
              setCreating(false);
              setCreated({ name, secret });
            }}
            onCancel={() => setCreating(false)}
          />
        ) : null}
        <QueryState query={tokens} empty={<Note>No tokens yet.</Note>}>
          {(list) => (
            <DataTable testId="tokens-table" columns={["Name", "Token", "Permissions", "Hosts", "Expires", "Last used", "Status", { label: "Actions", srOnly: true }]}>
              {list.map((t) => (
                <TokenRow key={t.id} token={t} />
              ))}
            </DataTable>
          )}
        </QueryState>
      </div>
    </Card>
  );
}

function scopeLabel(t: Token): string {
  if (!t.hosts.length && !t.hostGroups.length) return "All you can reach";
  return [...t.hostGroups.map((g) => `group ${g.name ?? "(removed)"}`), ...t.hosts.map((h) => h.name ?? "(removed host)")].join(", ");
}

function TokenRow({ token }: { token: Token }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const revoke = useMutation(
    trpc.tokens.revoke.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries(trpc.tokens.list.pathFilter());
      },
    }),
  );
  return (
    <tr data-testid={`token-${token.name}`} className={token.status === "active" ? "" : "text-slate-500"}>
      <td className={`${cell} font-medium`}>{token.name}</td>
      <td className={`${cell} font-mono text-xs`}>{token.prefix}…</td>
      <td className={`${cell} text-xs`}>{token.permissions.length ? <span className="font-mono">{token.permissions.join(" · ")}</span> : "All of yours"}</td>
      <td className={`${cell} text-xs`}>{scopeLabel(token)}</td>
      <td className={`${cell} whitespace-nowrap text-xs`}>{token.expiresAt ? formatDate(token.expiresAt) : "Never"}</td>
      <td className={`${cell} whitespace-nowrap text-xs`}>
        {token.lastUsedAt ? (
          <>
            {formatDate(token.lastUsedAt)}
            {token.lastUsedIp ? <span className="block font-mono text-slate-500">{token.lastUsedIp}</span> : null}
          </>
        ) : (
          "Never"
        )}
      </td>
      <td className={cell}>
        <Badge tone={STATUS_TONE[token.status]}>{token.status}</Badge>
      </td>
      <td className={`${cell} whitespace-nowrap text-right`}>
        {token.status === "revoked" ? null : <RevokeControl what={`token ${token.name}`} pending={revoke.isPending} error={revoke.error} onRevoke={() => revoke.mutate({ id: token.id })} />}
      </td>
    </tr>
  );
}

function NewSecret({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("yes");
    } catch {
      // No clipboard API outside a secure context (plain http on another host): select it for the user instead.
      input.current?.select();
      setCopied(document.execCommand?.("copy") ? "yes" : "failed");
    }
  };
  return (
    <div role="status" className="space-y-2 rounded-md border border-emerald-300 bg-emerald-50 p-4 dark:border-emerald-800 dark:bg-emerald-950">
      <p className="text-sm font-medium">Token “{name}” created. Copy it now: it won&apos;t be shown again.</p>
      <div className="flex gap-2">
        <input
          ref={input}
          readOnly
          value={secret}
          aria-label="New API token"
          className={`${inputClass} font-mono text-xs`}
          onFocus={(e) => e.currentTarget.select()}
          data-testid="new-token-secret"
        />
        <Button variant="secondary" onClick={() => void copy()}>
          {copied === "yes" ? "Copied" : "Copy"}
        </Button>
      </div>
      {copied === "failed" ? <p className="text-xs text-slate-600 dark:text-slate-400">Copying isn&apos;t allowed here; the token is selected, copy it with your keyboard.</p> : null}
      <div className="flex justify-end">
        <Button onClick={onDone}>Done</Button>
      </div>
    </div>
  );
}

interface Draft {
  name: string;
  expiry: (typeof EXPIRY_CHOICES)[number]["value"];
  allPermissions: boolean;
  permissions: string[];
  allHosts: boolean;
  hostIds: string[];
  hostGroupIds: string[];
}

const EMPTY: Draft = { name: "", expiry: "30", allPermissions: true, permissions: [], allHosts: true, hostIds: [], hostGroupIds: [] };

function toggle(list: string[], value: string, on: boolean): string[] {
  return on ? [...new Set([...list, value])] : list.filter((v) => v !== value);
}

function CreateTokenForm({ onCreated, onCancel }: { onCreated: (name: string, secret: string) => void; onCancel: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const options = useQuery(trpc.tokens.options.queryOptions());
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: async (result) => {
        await qc.invalidateQueries(trpc.tokens.list.pathFilter());
        onCreated(result.token.name, result.secret);
      },
    }),
  );
  const errors = fieldErrors(create.error);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    create.mutate({
      name: draft.name,
      expiresAt: draft.expiry === "never" ? null : new Date(Date.now() + Number(draft.expiry) * 86_400_000),
      permissions: draft.allPermissions ? [] : draft.permissions,
      hostIds: draft.allHosts ? [] : draft.hostIds,
      hostGroupIds: draft.allHosts ? [] : draft.hostGroupIds,
    });
  };
  const noPermissionPicked = !draft.allPermissions && draft.permissions.length === 0;
  const noHostPicked = !draft.allHosts && draft.hostIds.length === 0 && draft.hostGroupIds.length === 0;

  return (
    <FormPanel title="New API token" onSubmit={submit} className="space-y-4">
      <div className="grid gap-3 md:grid-cols-2">
        <Field label="Name" hint="What uses it, e.g. “CI deploys”." error={errors.name}>
          <Input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required maxLength={60} autoComplete="off" />
        </Field>
        <Field label="Expires" error={errors.expiresAt}>
          <Select value={draft.expiry} onChange={(e) => setDraft({ ...draft, expiry: e.target.value as Draft["expiry"] })}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      {options.error ? (
        <FormError message={errorMessage(options.error)} />
      ) : !options.data ? (
        <Note>Loading your permissions…</Note>
      ) : (
        <>
          <PermissionsPicker options={options.data} draft={draft} setDraft={setDraft} />
          <ScopePicker options={options.data} draft={draft} setDraft={setDraft} />
        </>
      )}
      <FormError message={create.error && Object.keys(errors).length === 0 ? errorMessage(create.error) : null} />
      <FormActions
        submitLabel="Create token"
        pendingLabel="Creating…"
        pending={create.isPending}
        disabled={!options.data || noPermissionPicked || noHostPicked}
        onCancel={onCancel}
      />
    </FormPanel>
  );
}

function PermissionsPicker({ options, draft, setDraft }: { options: Options; draft: Draft; setDraft: (d: Draft) => void }) {
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700 dark:text-slate-300">Permissions</legend>
      <label className="flex items-center gap-2 text-sm">
        <input type="radio" name="permissions-mode" checked={draft.allPermissions} onChange={() => setDraft({ ...draft, allPermissions: true })} />
        All of mine, as my roles change
      </label>
      <label className="flex items-center gap-2 text-sm">
        <input type="radio" name="permissions-mode" checked={!draft.allPermissions} onChange={() => setDraft({ ...draft, allPermissions: false })} />
        Only these:
      </label>
      {!draft.allPermissions ? (
        <div className="grid gap-1 pl-6 sm:grid-cols-2">
          {options.permissions.map((p) => (
            <label key={p.name} className="flex items-start gap-2 text-sm" title={p.description}>
              <input
                type="checkbox"
                className="mt-1"
                checked={draft.permissions.includes(p.name)}
                onChange={(e) => setDraft({ ...draft, permissions: toggle(draft.permissions, p.name, e.target.checked) })}
              />
              <span>
                <span className="font-mono text-xs">{p.name}</span>
                <span className="block text-xs text-slate-500">{p.description}</span>
              </span>
            </label>
          ))}
        </div>
      ) : null}
    </fieldset>
  );
}

function ScopePicker({ options, draft, setDraft }: { options: Options; draft: Draft; setDraft: (d: Draft) => void }) {
  if (!options.hosts.length && !options.hostGroups.length) return null;
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700 dark:text-slate-300">Hosts</legend>
      <label className="flex items-center gap-2 text-sm">
        <input type="radio" name="scope-mode" checked={draft.allHosts} onChange={() => setDraft({ ...draft, allHosts: true })} />
        Every host I can reach
      </label>
      <label className="flex items-center gap-2 text-sm">
        <input type="radio" name="scope-mode" checked={!draft.allHosts} onChange={() => setDraft({ ...draft, allHosts: false })} />
        Only these groups and hosts (account-wide permissions such as users.manage are then left out):
      </label>
      {!draft.allHosts ? (
        <div className="grid gap-3 pl-6 sm:grid-cols-2">
          <div className="space-y-1">
            <p className="text-xs uppercase text-slate-500">Host groups</p>
            {options.hostGroups.length ? (
              options.hostGroups.map((g) => (
                <label key={g.id} className="flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    checked={draft.hostGroupIds.includes(g.id)}
                    onChange={(e) => setDraft({ ...draft, hostGroupIds: toggle(draft.hostGroupIds, g.id, e.target.checked) })}
                  />
                  {g.name}
                </label>
              ))
            ) : (
              <p className="text-xs text-slate-500">None you can reach.</p>
            )}
          </div>
          <div className="space-y-1">
            <p className="text-xs uppercase text-slate-500">Hosts</p>
            {options.hosts.map((h) => (
              <label key={h.id} className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={draft.hostIds.includes(h.id)} onChange={(e) => setDraft({ ...draft, hostIds: toggle(draft.hostIds, h.id, e.target.checked) })} />
                {h.name}
              </label>
            ))}
          </div>
        </div>
      ) : null}
    </fieldset>
  );
}
