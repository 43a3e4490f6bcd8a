"use client";
import { useId, type FormEvent, type ReactNode } from "react";
import { Button } from "./button";
import { FieldError } from "./field";

// Pieces of the console's forms beyond a single field: a form opened inline
// in a card, its Cancel + submit row, and a checkbox with its explanation.

/** A form opened inside a card (add a registry, a new token): a bordered panel named by its heading. */
export function FormPanel({ title, onSubmit, className = "space-y-3", children }: { title: string; onSubmit: (e: FormEvent) => void; className?: string; children: ReactNode }) {
  const titleId = useId();
  return (
    <form aria-labelledby={titleId} onSubmit={onSubmit} className={`rounded-md border border-slate-200 p-4 dark:border-slate-800 ${className}`}>
      <h3 id={titleId} className="text-sm font-semibold">
        {title}
      </h3>
      {children}
    </form>
  );
}

/** Cancel and the submit button, right-aligned; both wait while the submit is pending. */
export function FormActions({
  submitLabel,
  pendingLabel,
  pending,
  disabled,
  cancelLabel = "Cancel",
  onCancel,
}: {
  submitLabel: ReactNode;
  pendingLabel: ReactNode;
  pending: boolean;
  /** The submit button's own reasons to wait (nothing typed yet, a problem). */
  disabled?: boolean;
  cancelLabel?: ReactNode;
  onCancel: () => void;
}) {
  return (
    <div className="flex justify-end gap-2">
      <Button variant="secondary" onClick={onCancel} disabled={pending}>
        {cancelLabel}
      </Button>
      <Button type="submit" disabled={pending || disabled}>
        {pending ? pendingLabel : submitLabel}
      </Button>
    </div>
  );
}

/** A checkbox named by its label, with an optional line explaining it and an error under it. */
export function CheckboxField({
  label,
  hint,
  checked,
  onChange,
  disabled,
  error,
}: {
  label: ReactNode;
  hint?: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
  error?: string | null;
}) {
  const id = useId();
  return (
    <div>
      <div className="flex items-start gap-2 text-sm">
        <input id={id} type="checkbox" className="mt-1" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-invalid={error ? true : undefined} />
        <label htmlFor={id}>
          <span className="font-medium">{label}</span>
          {hint ? <span className="block text-xs text-slate-500">{hint}</span> : null}
        </label>
      </div>
      <FieldError message={error} className="ml-6" />
    </div>
  );
}
