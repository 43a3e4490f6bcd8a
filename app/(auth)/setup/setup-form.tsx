"use client";
import { useActionState, useState } from "react";
import { Button } from "@/components/ui/button";
import { Field, FormError, Input } from "@/components/ui/field";
import { setupAction, type SetupState } from "./actions";

export function SetupForm({ token }: { token: string }) {
  const [state, action, pending] = useActionState<SetupState, FormData>(setupAction, { error: null });
  // Controlled, so a refused submission keeps what was typed (React resets uncontrolled forms).
  const [values, setValues] = useState({ email: "", name: "", password: "", confirm: "" });
  const bind = (k: keyof typeof values) => ({
    name: k,
    value: values[k],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setValues({ ...values, [k]: e.target.value }),
  });
  return (
    <form action={action} className="space-y-4" aria-label="Create the first owner">
      <input type="hidden" name="token" value={token} />
      <Field label="Email">
        <Input {...bind("email")} type="email" autoComplete="username" required autoFocus />
      </Field>
      <Field label="Name (optional)">
        <Input {...bind("name")} autoComplete="name" />
      </Field>
      <Field label="Password" hint="At least 12 characters.">
        <Input {...bind("password")} type="password" autoComplete="new-password" minLength={12} required />
      </Field>
      <Field label="Confirm password">
        <Input {...bind("confirm")} type="password" autoComplete="new-password" minLength={12} required />
      </Field>
      <FormError message={state.error} />
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? "Creating…" : "Create owner"}
      </Button>
    </form>
  );
}
