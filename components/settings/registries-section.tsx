"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useId, useState } from "react";
import { ActionDialog } from "@/components/images/modal";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, FormError, Input } from "@/components/ui/field";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
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
        {notice ? (
          <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
            {notice}
          </p>
        ) : null}
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
        {registries.error ? (
          <p role="alert" className="text-sm text-rose-700 dark:text-rose-400">
            {errorMessage(registries.error)}
          </p>
        ) : !registries.data ? (
          <p className="text-sm text-slate-500">Loading…</p>
        ) : registries.data.length === 0 ? (
          <p className="text-sm text-slate-500">No registries saved yet. Public images need none.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="registries-table">
              <thead className="text-xs uppercase text-slate-500">
                <tr>
                  <th className="px-2 py-2">Name</th>
                  <th className="px-2 py-2">Address</th>
                  <th className="px-2 py-2">User</th>
                  <th className="px-2 py-2">Password</th>
                  <th className="px-2 py-2">Added</th>
                  <th className="px-2 py-2">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
                {registries.data.map((r) => (
                  <tr key={r.id} data-testid={`registry-${r.name}`}>
                    <td className="px-2 py-2 font-medium">{r.name}</td>
                    <td className="px-2 py-2 font-mono text-xs">{r.address}</td>
                    <td className="px-2 py-2 text-xs">{r.username}</td>
                    <td className="px-2 py-2 text-xs text-slate-500">stored, hidden</td>
                    <td className="whitespace-nowrap px-2 py-2 text-xs">{new Date(r.createdAt).toLocaleDateString()}</td>
                    <td className="px-2 py-2 text-right">
                      <Button
                        variant="ghost"
                        className="px-2 py-1"
                        aria-label={`Edit registry ${r.name}`}
                        onClick={() => {
                          setNotice(null);
                          setEditing(r);
                        }}
                      >
                        Edit
                      </Button>
                      <Button variant="ghost" className="px-2 py-1 text-rose-700 dark:text-rose-400" aria-label={`Remove registry ${r.name}`} onClick={() => setRemoving(r)}>
                        Remove
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
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
  const titleId = useId();
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
    <form aria-labelledby={titleId} onSubmit={submit} className="space-y-3 rounded-md border border-slate-200 p-4 dark:border-slate-800">
      <h3 id={titleId} className="text-sm font-semibold">
        {registry ? `Edit ${registry.name}` : "Add a registry"}
      </h3>
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
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onCancel} disabled={mutation.isPending}>
          Cancel
        </Button>
        <Button type="submit" disabled={mutation.isPending}>
          {mutation.isPending ? "Saving…" : registry ? "Save changes" : "Save registry"}
        </Button>
      </div>
    </form>
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
    <ActionDialog
      title={`Remove registry ${registry.name}?`}
      confirmLabel="Remove registry"
      pending={remove.isPending}
      error={remove.error ? errorMessage(remove.error) : null}
      onConfirm={() => remove.mutate({ id: registry.id })}
      onClose={() => onClose(false)}
    >
      <p>
        Its stored credentials for <span className="font-mono text-xs">{registry.address}</span> are deleted. Pulls and pushes that used it need it saved
        again; running containers are not affected.
      </p>
    </ActionDialog>
  );
}
