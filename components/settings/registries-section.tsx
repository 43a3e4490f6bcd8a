"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useState } from "react";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { cell, DataTable, QueryState } from "@/components/ui/data-table";
import { Note, SuccessText } from "@/components/ui/feedback";
import { Field, FormError, Input } from "@/components/ui/field";
import { FormActions, FormPanel } from "@/components/ui/form";
import type { AppRouter } from "@/server/routers/_app";

// Saved registry credentials, for pulls and pushes from the Images page and
// deploys. The password goes one way: to the server, sealed there, and never
// shown again. Editing leaves it as it is unless a new one is typed.

type Registry = inferRouterOutputs<AppRouter>["registries"]["list"][number];

interface Draft {
  name: string;
  address: string;
  username: string;
  password: string;
}

const EMPTY: Draft = { name: "", address: "", username: "", password: "" };

export function RegistriesSection() {
  const trpc = useTRPC();
  const registries = useQuery(trpc.registries.list.queryOptions());
  const [editing, setEditing] = useState<Registry | "new" | null>(null);
  const [removing, setRemoving] = useState<Registry | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <Card
      title={<span id="registries">Registries</span>}
      actions={
        editing === null ? (
          <Button
            variant="secondary"
            onClick={() => {
              setNotice(null);
              setEditing("new");
            }}
          >
            Add a registry
          </Button>
        ) : null
      }
    >
      <div className="space-y-4">
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Credentials for private registries, used to pull images and push them. Passwords and tokens are encrypted on the server and never shown again.
        </p>
        {notice ? <SuccessText>{notice}</SuccessText> : null}
        {editing !== null ? (
          <RegistryForm
            key={editing === "new" ? "new" : editing.id}
            registry={editing === "new" ? null : editing}
            onDone={(message) => {
              setEditing(null);
              setNotice(message);
            }}
            onCancel={() => setEditing(null)}
          />
        ) : null}
        <QueryState query={registries} empty={<Note>No registries saved yet. Public images need none.</Note>}>
          {(list) => (
            <DataTable testId="registries-table" columns={["Name", "Address", "User", "Password", "Added", { label: "Actions", srOnly: true }]}>
              {list.map((r) => (
                <tr key={r.id} data-testid={`registry-${r.name}`}>
                  <td className={`${cell} font-medium`}>{r.name}</td>
                  <td className={`${cell} font-mono text-xs`}>{r.address}</td>
                  <td className={`${cell} text-xs`}>{r.username}</td>
                  <td className={`${cell} text-xs text-slate-500`}>stored, hidden</td>
                  <td className={`${cell} whitespace-nowrap text-xs`}>{new Date(r.createdAt).toLocaleDateString()}</td>
                  <td className={`${cell} text-right`}>
                    <Button
                      variant="ghost"
                      size="sm"
                      aria-label={`Edit registry ${r.name}`}
                      onClick={() => {
                        setNotice(null);
                        setEditing(r);
                      }}
                    >
                      Edit
                    </Button>
                    <Button variant="ghostDanger" size="sm" aria-label={`Remove registry ${r.name}`} onClick={() => setRemoving(r)}>
                      Remove
                    </Button>
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </QueryState>
      </div>
      {removing ? (
        <RemoveRegistry
          registry={removing}
          onClose={(removed) => {
            setRemoving(null);
            if (removed) setNotice(`Removed ${removing.name}.`);
          }}
        />
      ) : null}
    </Card>
  );
}

function RegistryForm({ registry, onDone, onCancel }: { registry: Registry | null; onDone: (message: string) => void; onCancel: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<Draft>(registry ? { name: registry.name, address: registry.address, username: registry.username, password: "" } : EMPTY);
  const refresh = () => qc.invalidateQueries(trpc.registries.list.pathFilter());
  const create = useMutation(trpc.registries.create.mutationOptions({ onSuccess: async (r) => { await refresh(); onDone(`Saved ${r.name}.`); } }));
  const update = useMutation(trpc.registries.update.mutationOptions({ onSuccess: async (r) => { await refresh(); onDone(`Updated ${r.name}.`); } }));
  const mutation = registry ? update : create;
  const errors = fieldErrors(mutation.error);
  const set = (k: keyof Draft) => (e: React.ChangeEvent<HTMLInputElement>) => setDraft({ ...draft, [k]: e.target.value });

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (registry) {
      // Only what changed; the password only when a new one is typed.
      update.mutate({
        id: registry.id,
        ...(draft.name !== registry.name ? { name: draft.name } : {}),
        ...(draft.address !== registry.address ? { address: draft.address } : {}),
        ...(draft.username !== registry.username ? { username: draft.username } : {}),
        ...(draft.password ? { password: draft.password } : {}),
      });
    } else {
      create.mutate(draft);
    }
  };

  return (
    <FormPanel title={registry ? `Edit ${registry.name}` : "Add a registry"} onSubmit={submit}>
      <div className="grid gap-3 md:grid-cols-2">
        <Field label="Name" hint="How it is listed when you pull or push." error={errors.name}>
          <Input value={draft.name} onChange={set("name")} required maxLength={60} autoComplete="off" />
        </Field>
        <Field label="Address" hint="Host and port, no scheme: registry.example.com:5000 (docker.io for Docker Hub)." error={errors.address}>
          <Input value={draft.address} onChange={set("address")} required maxLength={255} autoComplete="off" spellCheck={false} placeholder="registry.example.com" />
        </Field>
        <Field label="User name" error={errors.username}>
          <Input value={draft.username} onChange={set("username")} required maxLength={255} autoComplete="off" />
        </Field>
        <Field
          label="Password or token"
          hint={registry ? "Leave empty to keep the stored one. It is never shown." : "Encrypted on the server; never shown again."}
          error={errors.password}
        >
          <Input
            type="password"
            value={draft.password}
            onChange={set("password")}
            required={!registry}
            maxLength={4096}
            autoComplete="new-password"
            placeholder={registry ? "•••••• (unchanged)" : undefined}
          />
        </Field>
      </div>
      <FormError message={mutation.error && Object.keys(errors).length === 0 ? errorMessage(mutation.error) : null} />
      <FormActions submitLabel={registry ? "Save changes" : "Save registry"} pendingLabel="Saving…" pending={mutation.isPending} onCancel={onCancel} />
    </FormPanel>
  );
}

function RemoveRegistry({ registry, onClose }: { registry: Registry; onClose: (removed: boolean) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const remove = useMutation(
    trpc.registries.remove.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries(trpc.registries.list.pathFilter());
        onClose(true);
      },
    }),
  );
  return (
    <ConfirmDialog
      title={`Remove registry ${registry.name}?`}
      confirmLabel="Remove registry"
      mutation={remove}
      onConfirm={() => remove.mutate({ id: registry.id })}
      onClose={() => onClose(false)}
    >
      <p>
        Its stored credentials for <span className="font-mono text-xs">{registry.address}</span> are deleted. Pulls and pushes that used it need it saved
        again; running containers are not affected.
      </p>
    </ConfirmDialog>
  );
}
