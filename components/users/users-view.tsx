"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { QueryState } from "@/components/ui/data-table";
import { ErrorText, SuccessText } from "@/components/ui/feedback";
import { Field, Input, Select } from "@/components/ui/field";

function useInvalidate() {
  const qc = useQueryClient();
  const trpc = useTRPC();
  return () => Promise.all([qc.invalidateQueries(trpc.users.list.pathFilter()), qc.invalidateQueries(trpc.roles.list.pathFilter())]);
}

export function UsersView({ canManageUsers, canManageRoles }: { canManageUsers: boolean; canManageRoles: boolean }) {
  return (
    <div className="space-y-6">
      {canManageUsers ? <UsersSection /> : null}
      <RolesSection canManageRoles={canManageRoles} />
    </div>
  );
}

function UsersSection() {
  const trpc = useTRPC();
  const users = useQuery(trpc.users.list.queryOptions());
  const roles = useQuery(trpc.roles.list.queryOptions());
  return (
    <>
      <CreateUserForm roles={roles.data?.roles ?? []} />
      <Card title="Users">
        <QueryState query={users} empty={<EmptyState title="No users">Create the first one above.</EmptyState>}>
          {(list) => (
            <ul className="divide-y divide-slate-200 dark:divide-slate-800" data-testid="users-list">
              {list.map((u) => (
                <UserRow key={u.id} user={u} roles={roles.data?.roles ?? []} />
              ))}
            </ul>
          )}
        </QueryState>
      </Card>
    </>
  );
}

type RoleOption = { id: string; name: string };

function CreateUserForm({ roles }: { roles: RoleOption[] }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const [form, setForm] = useState({ email: "", name: "", password: "", roleId: "" });
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async () => {
        setForm({ email: "", name: "", password: "", roleId: "" });
        await invalidate();
      },
    }),
  );
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    create.mutate({ email: form.email, name: form.name || undefined, password: form.password, roleId: form.roleId || undefined });
  };
  return (
    <Card title="Create a user">
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2 lg:grid-cols-5" aria-label="Create a user">
        <Field label="Email">
          <Input name="email" type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        </Field>
        <Field label="Name">
          <Input name="name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </Field>
        <Field label="Password" hint="12 characters or more">
          <Input name="password" type="password" autoComplete="new-password" required minLength={12} value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
        </Field>
        <Field label="Role (everywhere)">
          <Select name="roleId" value={form.roleId} onChange={(e) => setForm({ ...form, roleId: e.target.value })}>
            <option value="">No role yet</option>
            {roles.map((r) => (
              <option key={r.id} value={r.id}>{r.name}</option>
            ))}
          </Select>
        </Field>
        <div className="flex items-end">
          <Button type="submit" disabled={create.isPending}>{create.isPending ? "Creating…" : "Create user"}</Button>
        </div>
      </form>
      {create.error ? <ErrorText className="mt-2">{errorMessage(create.error)}</ErrorText> : null}
      {create.isSuccess ? <SuccessText className="mt-2">Created {create.data.email}.</SuccessText> : null}
    </Card>
  );
}

type UserItem = {
  id: string;
  email: string;
  name: string | null;
  disabled: boolean;
  bindings: { id: string; roleName: string; scopeLabel: string }[];
};

function UserRow({ user, roles }: { user: UserItem; roles: RoleOption[] }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const [panel, setPanel] = useState<"none" | "password" | "bind">("none");
  const [notice, setNotice] = useState<string | null>(null);
  const opts = { onSuccess: async () => { setPanel("none"); await invalidate(); } };
  const setDisabled = useMutation(trpc.users.setDisabled.mutationOptions(opts));
  const unbind = useMutation(trpc.users.unbindRole.mutationOptions(opts));
  const error = setDisabled.error ?? unbind.error;
  return (
    <li className="py-3" data-testid={`user-${user.email}`}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div>
          <span className="font-medium">{user.email}</span>
          {user.name ? <span className="ml-2 text-sm text-slate-500">{user.name}</span> : null}
          {user.disabled ? <span className="ml-2"><Badge tone="red">disabled</Badge></span> : null}
        </div>
        <div className="flex flex-wrap gap-2">
          <Button variant="secondary" onClick={() => setPanel(panel === "bind" ? "none" : "bind")}>Add role</Button>
          <Button variant="secondary" onClick={() => setPanel(panel === "password" ? "none" : "password")}>Set password</Button>
          <Button
            variant={user.disabled ? "secondary" : "danger"}
            disabled={setDisabled.isPending}
            onClick={() => setDisabled.mutate({ userId: user.id, disabled: !user.disabled })}
          >
            {user.disabled ? "Enable" : "Disable"}
          </Button>
        </div>
      </div>
      <div className="mt-2 flex flex-wrap gap-2">
        {user.bindings.length === 0 ? <span className="text-xs text-slate-500">No roles: this user can sign in but see nothing.</span> : null}
        {user.bindings.map((b) => (
          <span key={b.id} className="inline-flex items-center gap-1 rounded border border-slate-200 px-2 py-0.5 text-xs dark:border-slate-700">
            <strong>{b.roleName}</strong> · {b.scopeLabel}
            <button type="button" aria-label={`Remove ${b.roleName} from ${user.email}`} className="ml-1 text-slate-500 hover:text-rose-600" onClick={() => unbind.mutate({ bindingId: b.id })}>
              ×
            </button>
          </span>
        ))}
      </div>
      {error ? <ErrorText className="mt-2">{errorMessage(error)}</ErrorText> : null}
      {notice ? <SuccessText className="mt-2">{notice}</SuccessText> : null}
      {panel === "password" ? <PasswordForm userId={user.id} done={(message) => { setPanel("none"); setNotice(message); }} /> : null}
      {panel === "bind" ? <BindForm userId={user.id} roles={roles} done={async () => { setPanel("none"); await invalidate(); }} /> : null}
    </li>
  );
}

function PasswordForm({ userId, done }: { userId: string; done: (message: string) => void }) {
  const trpc = useTRPC();
  const [password, setPassword] = useState("");
  const set = useMutation(
    trpc.users.setPassword.mutationOptions({
      onSuccess: (r) => done(`Password set for ${r.email}. ${r.revokedApiTokens === 0 ? "They had no active API tokens." : `${r.revokedApiTokens} API token${r.revokedApiTokens === 1 ? " was" : "s were"} revoked.`}`),
    }),
  );
  return (
    <form className="mt-3 flex flex-wrap items-end gap-2" onSubmit={(e) => { e.preventDefault(); set.mutate({ userId, password }); }}>
      <Field
        label="New password"
        hint="Saving signs them out everywhere else and revokes all their API tokens: automation using them stops until they make new ones."
        error={set.error ? errorMessage(set.error) : null}
      >
        <Input type="password" autoComplete="new-password" minLength={12} required value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      <Button type="submit" disabled={set.isPending}>Save password</Button>
    </form>
  );
}

function BindForm({ userId, roles, done }: { userId: string; roles: RoleOption[]; done: () => void }) {
  const trpc = useTRPC();
  const groups = useQuery({ ...trpc.hosts.groups.queryOptions(), retry: false });
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  const [roleId, setRoleId] = useState(roles[0]?.id ?? "");
  const [scope, setScope] = useState("global");
  const bind = useMutation(trpc.users.bindRole.mutationOptions({ onSuccess: done }));
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const [type, id] = scope.split(":") as ["global" | "hostGroup" | "host", string | undefined];
    bind.mutate({ userId, roleId, scope: type === "global" ? { type } : { type, id: id! } });
  };
  return (
    <form className="mt-3 flex flex-wrap items-end gap-2" onSubmit={submit} aria-label="Add a role">
      <Field label="Role">
        <Select value={roleId} onChange={(e) => setRoleId(e.target.value)} name="bindRole">
          {roles.map((r) => (<option key={r.id} value={r.id}>{r.name}</option>))}
        </Select>
      </Field>
      <Field label="Scope">
        <Select value={scope} onChange={(e) => setScope(e.target.value)} name="bindScope">
          <option value="global">Everywhere</option>
          {groups.data?.map((g) => (<option key={g.id} value={`hostGroup:${g.id}`}>Group: {g.name}</option>))}
          {hosts.data?.map((h) => (<option key={h.id} value={`host:${h.id}`}>Host: {h.name}</option>))}
        </Select>
      </Field>
      <Button type="submit" disabled={bind.isPending || !roleId}>Add role</Button>
      {bind.error ? <ErrorText className="w-full">{errorMessage(bind.error)}</ErrorText> : null}
    </form>
  );
}

function RolesSection({ canManageRoles }: { canManageRoles: boolean }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const roles = useQuery(trpc.roles.list.queryOptions());
  const remove = useMutation(trpc.roles.delete.mutationOptions({ onSuccess: invalidate }));
  return (
    <>
      {canManageRoles && roles.data ? <CreateRoleForm permissions={roles.data.permissions} /> : null}
      <Card title="Roles">
        {roles.error ? <ErrorText>{errorMessage(roles.error)}</ErrorText> : null}
        {remove.error ? <ErrorText className="mb-2">{errorMessage(remove.error)}</ErrorText> : null}
        <ul className="divide-y divide-slate-200 dark:divide-slate-800" data-testid="roles-list">
          {roles.data?.roles.map((r) => (
            <li key={r.id} className="py-3">
              <div className="flex flex-wrap items-center justify-between gap-2">
                <div>
                  <span className="font-medium">{r.name}</span>{" "}
                  {r.builtIn ? <Badge tone="sky">built-in</Badge> : <Badge>custom</Badge>}{" "}
                  <span className="text-xs text-slate-500">{r.bindingCount} binding(s)</span>
                  {r.description ? <p className="text-sm text-slate-600 dark:text-slate-400">{r.description}</p> : null}
                </div>
                {canManageRoles && !r.builtIn ? (
                  <Button variant="ghost" onClick={() => remove.mutate({ id: r.id })}>Delete</Button>
                ) : null}
              </div>
              <p className="mt-1 font-mono text-xs text-slate-500">{r.permissions.join(" · ")}</p>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}

function CreateRoleForm({ permissions }: { permissions: { name: string; description: string; scope: string; grantable: boolean }[] }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const create = useMutation(
    trpc.roles.create.mutationOptions({
      onSuccess: async () => { setName(""); setDescription(""); setPicked([]); await invalidate(); },
    }),
  );
  const toggle = (p: string) => setPicked(picked.includes(p) ? picked.filter((x) => x !== p) : [...picked, p]);
  return (
    <Card title="Create a custom role">
      <form
        aria-label="Create a custom role"
        onSubmit={(e) => { e.preventDefault(); create.mutate({ name, description, permissions: picked as never }); }}
        className="space-y-3"
      >
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Name"><Input required value={name} onChange={(e) => setName(e.target.value)} name="roleName" /></Field>
          <Field label="Description"><Input value={description} onChange={(e) => setDescription(e.target.value)} name="roleDescription" /></Field>
        </div>
        <fieldset>
          <legend className="text-sm font-medium">Permissions</legend>
          <div className="mt-2 grid gap-1 sm:grid-cols-2 lg:grid-cols-3">
            {/* A role can only hold what its maker holds everywhere; the server checks again. */}
            {permissions.map((p) => (
              <label key={p.name} className={`flex items-start gap-2 text-sm${p.grantable ? "" : " opacity-60"}`} title={p.grantable ? undefined : "You don't hold this everywhere, so you can't put it in a role."}>
                <input type="checkbox" className="mt-1" disabled={!p.grantable} checked={picked.includes(p.name)} onChange={() => toggle(p.name)} />
                <span><code className="font-mono text-xs">{p.name}</code><span className="block text-xs text-slate-500">{p.description}</span></span>
              </label>
            ))}
          </div>
        </fieldset>
        <Button type="submit" disabled={create.isPending}>Create role</Button>
        {create.error ? <ErrorText>{errorMessage(create.error)}</ErrorText> : null}
      </form>
    </Card>
  );
}
