"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useStacksTRPC } from "@/components/stacks/api";
import type { SecretSummary } from "@/components/stacks/types";
import { errorMessage, fieldErrors } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { cell, DataTable, QueryState } from "@/components/ui/data-table";
import { Note, SuccessText } from "@/components/ui/feedback";
import { Field, FormError, Input } from "@/components/ui/field";
import { FormActions, FormPanel } from "@/components/ui/form";
import { formatDate } from "@/components/ui/format";

// Berth's secret store for stacks: a secret's value goes one way, to the
// server, sealed there, mounted into containers at /run/secrets/<name>; it is
// never shown again. A compose file names it under `secrets:` (external).

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function SecretsView() {
  const { secrets } = useStacksTRPC();
  const list = useQuery(secrets.list.queryOptions());
  const [editing, setEditing] = useState<SecretSummary | "new" | null>(null);
  const [removing, setRemoving] = useState<SecretSummary | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <Card
      title="Secrets"
      actions={
        editing === null ? (
          <Button
            variant="secondary"
            onClick={() => {
              setNotice(null);
              setEditing("new");
            }}
          >
            New secret
          </Button>
        ) : null
      }
    >
      <div className="space-y-4">
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Values for a stack&apos;s <span className="font-mono text-xs">secrets:</span>, mounted as files at <span className="font-mono text-xs">/run/secrets/&lt;name&gt;</span>. They are
          encrypted on the server, never shown again, and never stored in a stack&apos;s versions or the audit log.
        </p>
        {notice ? <SuccessText>{notice}</SuccessText> : null}
        {editing !== null ? (
          <SecretForm
            key={editing === "new" ? "new" : editing.id}
            secret={editing === "new" ? null : editing}
            onDone={(message) => {
              setEditing(null);
              setNotice(message);
            }}
            onCancel={() => setEditing(null)}
          />
        ) : null}
        <QueryState query={{ error: list.error, data: list.data?.items }} errorPrefix="Could not list the secrets: " empty={<Note>No secrets yet. Create one, then name it in a compose file&apos;s secrets.</Note>}>
          {(items) => (
            <DataTable testId="secrets-table" columns={["Name", "Description", "Value", "Used by", "Updated", { label: "Actions", srOnly: true }]}>
              {items.map((s) => (
                <tr key={s.id} data-testid="secret-row" aria-label={`Secret ${s.name}`}>
                  <td className={`${cell} font-mono text-xs font-medium`}>{s.name}</td>
                  <td className={`${cell} text-xs`}>{s.description ?? "—"}</td>
                  <td className={`${cell} text-xs text-slate-500`}>stored, hidden</td>
                  <td className={`${cell} text-xs`}>{s.usedBy === 0 ? "no stack" : `${s.usedBy} stack${s.usedBy === 1 ? "" : "s"}`}</td>
                  <td className={`${cell} whitespace-nowrap text-xs`}>{formatDate(s.updatedAt)}</td>
                  <td className={`${cell} whitespace-nowrap text-right`}>
                    <Button
                      variant="ghost"
                      size="sm"
                      aria-label={`Replace the value of ${s.name}`}
                      onClick={() => {
                        setNotice(null);
                        setEditing(s);
                      }}
                    >
                      Replace value
                    </Button>
                    <Button variant="ghostDanger" size="sm" aria-label={`Delete secret ${s.name}`} onClick={() => setRemoving(s)}>
                      Delete
                    </Button>
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </QueryState>
      </div>
      {removing ? (
        <DeleteSecret
          secret={removing}
          onClose={(deleted) => {
            setRemoving(null);
            if (deleted) setNotice(`Deleted ${removing.name}.`);
          }}
        />
      ) : null}
    </Card>
  );
}

function SecretForm({ secret, onDone, onCancel }: { secret: SecretSummary | null; onDone: (message: string) => void; onCancel: () => void }) {
  const { secrets } = useStacksTRPC();
  const qc = useQueryClient();
  const [name, setName] = useState(secret?.name ?? "");
  const [value, setValue] = useState("");
  const [description, setDescription] = useState(secret?.description ?? "");
  const [submitted, setSubmitted] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: secrets.pathKey() });
  const create = useMutation(secrets.create.mutationOptions());
  const update = useMutation(secrets.update.mutationOptions());
  const mutation = secret ? update : create;
  const errors = fieldErrors(mutation.error);
  const nameError = secret ? null : !name ? "Give the secret a name." : !NAME_PATTERN.test(name) ? "Letters, digits, “.”, “-” and “_”, starting with a letter or digit." : null;
  const valueError = !secret && !value ? "Type the value." : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (nameError || valueError) return;
    const done = async (message: string) => {
      // The value leaves the page's memory with the form.
      setValue("");
      await refresh();
      onDone(message);
    };
    if (secret) {
      const changedDescription = description !== (secret.description ?? "");
      if (!value && !changedDescription) return onCancel();
      update.mutate(
        { id: secret.id, ...(value ? { value } : {}), ...(changedDescription ? { description } : {}) },
        { onSuccess: () => done(value ? `Replaced the value of ${secret.name}. Stacks using it get it on their next apply.` : `Updated ${secret.name}.`) },
      );
    } else {
      create.mutate({ name, value, ...(description ? { description } : {}) }, { onSuccess: () => done(`Saved ${name}.`) });
    }
  };

  return (
    <FormPanel title={secret ? `Replace the value of ${secret.name}` : "New secret"} onSubmit={submit}>
      <div className="grid gap-3 md:grid-cols-2">
        {secret ? null : (
          <Field label="Name" hint="What a compose file names under secrets (external: true, or name: …)." error={errors.name ?? (submitted ? nameError : null)}>
            <Input value={name} onChange={(e) => setName(e.target.value.trim())} maxLength={128} autoComplete="off" spellCheck={false} placeholder="db_password" />
          </Field>
        )}
        <Field label="Value" hint={secret ? "Leave empty to keep the stored one. It is never shown." : "Encrypted on the server; never shown again."} error={errors.value ?? (submitted ? valueError : null)}>
          <Input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="new-password" placeholder={secret ? "•••••• (unchanged)" : undefined} />
        </Field>
        <Field label="Description" hint="Optional: what it is for." error={errors.description}>
          <Input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} autoComplete="off" />
        </Field>
      </div>
      <FormError message={mutation.error && Object.keys(errors).length === 0 ? errorMessage(mutation.error) : null} />
      <FormActions submitLabel={secret ? "Save" : "Save secret"} pendingLabel="Saving…" pending={mutation.isPending} onCancel={onCancel} />
    </FormPanel>
  );
}

function DeleteSecret({ secret, onClose }: { secret: SecretSummary; onClose: (deleted: boolean) => void }) {
  const { secrets } = useStacksTRPC();
  const qc = useQueryClient();
  const remove = useMutation(secrets.delete.mutationOptions());
  return (
    <ConfirmDialog
      title={`Delete secret ${secret.name}?`}
      confirmLabel="Delete secret"
      mutation={remove}
      onConfirm={() =>
        remove.mutate(
          { id: secret.id },
          {
            onSuccess: async () => {
              await qc.invalidateQueries({ queryKey: secrets.pathKey() });
              onClose(true);
            },
          },
        )
      }
      onClose={() => onClose(false)}
    >
      <p>
        {secret.usedBy > 0
          ? `${secret.usedBy} stack${secret.usedBy === 1 ? " uses" : "s use"} it: Berth refuses to delete it until they no longer name it.`
          : "No stack uses it. Its value is deleted for good."}
      </p>
    </ConfirmDialog>
  );
}
