"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState, type FormEvent } from "react";
import type { WebhookCreated, WebhookView } from "@/lib/rollouts/views";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { ErrorText, Loading, Note, Reason } from "@/components/ui/feedback";
import { Field, FormError, Input, inputClass, Select } from "@/components/ui/field";
import { CheckboxField, FormActions, FormPanel } from "@/components/ui/form";
import { formatDate } from "@/components/ui/format";
import { parseAddresses, webhookState } from "./rules";

// A deployment's or a stack's deploy webhooks: create one (its URL and secret
// shown once, with a curl example and how registries sign their callbacks),
// the list with each one's prefix, last use and expiry, and revoke.

/** The list is read again this often: a call from CI changes "last used". */
const LIST_REFRESH_MS = 10_000;

export type WebhookTarget = { deploymentId: string } | { stackId: string };

const EXPIRY_CHOICES = [
  { value: "", label: "Never" },
  { value: "7", label: "In 7 days" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
] as const;

export function WebhooksCard({
  target,
  mayManage,
  manageReason,
  mayPreApprove,
}: {
  target: WebhookTarget;
  mayManage: boolean;
  manageReason?: string;
  /** deploys.approve on the host: only then is "pre-approved" offered. */
  mayPreApprove: boolean;
}) {
  const trpc = useTRPC();
  const list = useQuery({ ...trpc.webhooks.list.queryOptions(target), retry: false, refetchInterval: LIST_REFRESH_MS });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<WebhookCreated | null>(null);
  return (
    <Card
      title="Webhooks"
      actions={
        mayManage ? (
          creating || created ? null : (
            <Button variant="secondary" size="sm" onClick={() => setCreating(true)}>
              New webhook
            </Button>
          )
        ) : (
          <Reason>{manageReason ?? "Webhooks need the deploy permission on this host."}</Reason>
        )
      }
    >
      <div className="space-y-4">
        <p className="text-xs text-slate-500">
          CI calls a webhook after pushing an image: Berth pulls it and rolls it out through the same policy, health gate and approvals as an update from here.
        </p>
        {created ? <NewWebhook created={created} onDone={() => setCreated(null)} /> : null}
        {creating ? (
          <CreateWebhookForm
            target={target}
            mayPreApprove={mayPreApprove}
            onCancel={() => setCreating(false)}
            onCreated={(c) => {
              setCreating(false);
              setCreated(c);
            }}
          />
        ) : null}
        {list.error ? <ErrorText>{errorMessage(list.error)}</ErrorText> : null}
        {!list.data && !list.error ? <Loading /> : null}
        {list.data ? (
          list.data.length === 0 ? (
            <Note>No webhooks.</Note>
          ) : (
            <DataTable testId="webhooks-table" columns={["Name", "Secret starts", "Limits", "Last used", "Expires", "State", { label: "Actions", srOnly: true }]}>
              {list.data.map((w) => (
                <WebhookRow key={w.id} webhook={w} mayManage={mayManage} />
              ))}
            </DataTable>
          )
        ) : null}
      </div>
    </Card>
  );
}

function WebhookRow({ webhook: w, mayManage }: { webhook: WebhookView; mayManage: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const revoke = useMutation(
    trpc.webhooks.revoke.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await qc.invalidateQueries({ queryKey: trpc.webhooks.pathKey() });
      },
    }),
  );
  const state = webhookState(w, Date.now());
  return (
    <tr data-testid="webhook-row" aria-label={`Webhook ${w.name}`}>
      <td className={`${cell} font-medium`}>
        {w.name}
        {w.preApproved ? (
          <span className="ml-2">
            <Badge tone="sky">pre-approved</Badge>
          </span>
        ) : null}
        <div className="text-xs font-normal text-slate-500">{w.createdBy ? `by ${w.createdBy}, ` : ""}{formatDate(w.createdAt)}</div>
      </td>
      <td className={`${cell} font-mono text-xs`}>{w.prefix}…</td>
      <td className={`${cell} text-xs`}>
        <div>Tags: {w.tagPattern ?? "any"}</div>
        <div>From: {w.sourceCidrs.length ? w.sourceCidrs.join(", ") : "anywhere"}</div>
      </td>
      <td className={`${cell} text-xs`}>{w.lastUsedAt ? `${formatDate(w.lastUsedAt)}${w.lastUsedIp ? ` from ${w.lastUsedIp}` : ""}` : "never"}</td>
      <td className={`${cell} text-xs`}>{w.expiresAt ? formatDate(w.expiresAt) : "never"}</td>
      <td className={cell}>
        <Badge tone={state === "active" ? "green" : state === "expired" ? "amber" : "slate"}>{state}</Badge>
      </td>
      <td className={`${cell} whitespace-nowrap text-right`}>
        {!mayManage || state === "revoked" ? null : confirming ? (
          <span className="inline-flex items-center gap-1">
            <Button variant="danger" size="sm" disabled={revoke.isPending} onClick={() => revoke.mutate({ id: w.id })}>
              {revoke.isPending ? "Revoking…" : "Revoke now"}
            </Button>
            <Button variant="ghost" size="sm" disabled={revoke.isPending} onClick={() => setConfirming(false)}>
              Keep
            </Button>
          </span>
        ) : (
          <Button variant="ghostDanger" size="sm" aria-label={`Revoke webhook ${w.name}`} onClick={() => setConfirming(true)}>
            Revoke
          </Button>
        )}
        {revoke.error ? <ErrorText small>{errorMessage(revoke.error)}</ErrorText> : null}
      </td>
    </tr>
  );
}

function CreateWebhookForm({
  target,
  mayPreApprove,
  onCancel,
  onCreated,
}: {
  target: WebhookTarget;
  mayPreApprove: boolean;
  onCancel: () => void;
  onCreated: (created: WebhookCreated) => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [tagPattern, setTagPattern] = useState("");
  const [addresses, setAddresses] = useState("");
  const [expiry, setExpiry] = useState<string>("");
  const [preApproved, setPreApproved] = useState(false);
  const create = useMutation(trpc.webhooks.create.mutationOptions());
  const parsed = parseAddresses(addresses);
  const nameProblem = name.trim() === "" ? null : name.trim().length > 100 ? "At most 100 characters." : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim() || nameProblem || parsed.error) return;
    create.mutate(
      {
        ...target,
        name: name.trim(),
        tagPattern: tagPattern.trim() || null,
        sourceCidrs: parsed.cidrs,
        expiresInDays: expiry ? Number(expiry) : null,
        preApproved: mayPreApprove && preApproved,
      },
      {
        onSuccess: async (c) => {
          await qc.invalidateQueries({ queryKey: trpc.webhooks.pathKey() });
          onCreated(c);
        },
      },
    );
  };
  return (
    <FormPanel title="New webhook" onSubmit={submit}>
      <Field label="Webhook name" hint="What calls it, e.g. “GitHub Actions main”." error={nameProblem}>
        <Input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required />
      </Field>
      <Field label="Tag pattern" hint="Optional: only images whose tag matches, e.g. v* or main-*. Empty: any tag of the deployed repository.">
        <Input value={tagPattern} onChange={(e) => setTagPattern(e.target.value)} maxLength={128} placeholder="v*" />
      </Field>
      <Field label="Allowed addresses" hint="Optional: the CI's addresses or networks (CIDR), one per line or comma-separated. Empty: any address." error={parsed.error}>
        <textarea className={`${inputClass} font-mono`} rows={2} value={addresses} onChange={(e) => setAddresses(e.target.value)} placeholder="203.0.113.0/24" />
      </Field>
      <Field label="Expires">
        <Select value={expiry} onChange={(e) => setExpiry(e.target.value)}>
          {EXPIRY_CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </Select>
      </Field>
      {mayPreApprove ? (
        <CheckboxField
          label="Pre-approved"
          hint="Its rollouts skip approval on hosts that require it (you approve them now, as the webhook's creator)."
          checked={preApproved}
          onChange={setPreApproved}
        />
      ) : null}
      <FormError message={create.error ? errorMessage(create.error) : null} />
      <FormActions submitLabel="Create webhook" pendingLabel="Creating…" pending={create.isPending} disabled={!name.trim() || Boolean(nameProblem || parsed.error)} onCancel={onCancel} />
    </FormPanel>
  );
}

function NewWebhook({ created, onDone }: { created: WebhookCreated; onDone: () => void }) {
  const curl = `curl -X POST -H 'content-type: application/json' -d '{"image":"repo:tag"}' '${created.url}'`;
  return (
    <div role="status" className="space-y-3 rounded-md border border-emerald-300 bg-emerald-50 p-4 dark:border-emerald-800 dark:bg-emerald-950" data-testid="new-webhook">
      <p className="text-sm font-medium">Webhook “{created.webhook.name}” created. Copy its URL and secret now: they won&apos;t be shown again.</p>
      <CopyField label="Webhook URL" value={created.url} testId="new-webhook-url" />
      <CopyField label="Webhook secret" value={created.secret} testId="new-webhook-secret" />
      <div>
        <CopyField label="curl example" value={curl} testId="new-webhook-curl" multiline />
        <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
          The body is optional: without it the running tag is pulled again; <code>{'{"image":"repo@sha256:…"}'}</code> pins a digest. Berth answers 202 with the rollout&apos;s id
          and a status URL ({created.statusUrlTemplate}); add <code>?wait=true</code> to wait for the result.
        </p>
      </div>
      <div className="text-xs text-slate-600 dark:text-slate-400">
        <div className="font-medium text-slate-800 dark:text-slate-200">Signed callbacks (registry notifications)</div>
        <p>
          POST the registry&apos;s notification envelope to <code className="[overflow-wrap:anywhere]">{created.signedUrl}</code> with the header{" "}
          <code>{created.signatureHeader}: sha256=&lt;hex HMAC-SHA256 of the body, keyed with the secret&gt;</code>.
        </p>
      </div>
      <div className="flex justify-end">
        <Button onClick={onDone}>Done</Button>
      </div>
    </div>
  );
}

function CopyField({ label, value, testId, multiline }: { label: string; value: string; testId: string; multiline?: boolean }) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      // No clipboard API outside a secure context: select it for the reader instead.
      ref.current?.select();
      setCopied(document.execCommand?.("copy") ? "yes" : "failed");
    }
  };
  const id = useId();
  const common = {
    ref,
    id,
    readOnly: true,
    value,
    "data-testid": testId,
    className: `${inputClass} font-mono text-xs`,
    onFocus: (e: { currentTarget: { select: () => void } }) => e.currentTarget.select(),
  };
  return (
    <div>
      <label htmlFor={id} className="block text-xs font-medium">
        {label}
      </label>
      <div className="mt-0.5 flex items-start gap-2">
        {multiline ? <textarea rows={3} {...common} /> : <input {...common} />}
        <Button variant="secondary" size="sm" aria-label={`Copy ${label.toLowerCase()}`} onClick={() => void copy()}>
          {copied === "yes" ? "Copied" : "Copy"}
        </Button>
      </div>
      {copied === "failed" ? <p className="text-xs text-slate-600 dark:text-slate-400">Copying isn&apos;t allowed here; it is selected, copy it with your keyboard.</p> : null}
    </div>
  );
}
