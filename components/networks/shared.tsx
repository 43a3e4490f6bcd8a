"use client";
import { useId, useState, type ReactNode } from "react";
import { errorMessage, fieldErrors } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { cell } from "@/components/ui/data-table";
import { Reason, SuccessText } from "@/components/ui/feedback";
import { Field, FormError, Input } from "@/components/ui/field";

// What the networks and volumes pages share: both list named things on a
// host, create one by name, and remove one that no container uses.

/** The server's rule for network and volume names, checked as you type. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const NAME_HINT = "Letters, digits, _ . - (starting with a letter or digit).";

export function nameProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return null;
  if (v.length > 128) return "at most 128 characters";
  return NAME.test(v) ? null : "use letters, digits, _ . - (starting with a letter or digit)";
}

/** The containers using a network or volume, or "not in use". */
export function InUse({ names }: { names: string[] }) {
  if (!names.length) return <span className="text-slate-500">not in use</span>;
  return (
    <ul className="space-y-0.5" data-testid="in-use-by">
      {names.map((n) => (
        <li key={n}>{n}</li>
      ))}
    </ul>
  );
}

type What = "network" | "volume";
const TITLE: Record<What, string> = { network: "Network", volume: "Volume" };

/**
 * "Create a network" / "Create a volume": a name checked as you type, and
 * `extra` fields beside it. `onCreate` gets the name and a callback that
 * empties the form once the server made it.
 */
export function CreateByNameCard({
  what,
  placeholder,
  reason,
  mutation,
  onCreate,
  extra,
}: {
  what: What;
  placeholder: string;
  reason: string | null;
  mutation: { isPending: boolean; isSuccess: boolean; error: unknown; reset: () => void };
  onCreate: (name: string, created: () => void) => void;
  extra?: ReactNode;
}) {
  const formId = useId();
  const [name, setName] = useState("");
  const problem = nameProblem(name);
  const server = fieldErrors(mutation.error).name;
  return (
    <Card title={<span id={formId}>Create a {what}</span>}>
      <form
        aria-labelledby={formId}
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          if (!problem && name && !reason) onCreate(name.trim(), () => setName(""));
        }}
      >
        <div className={`grid gap-3 md:items-end ${extra ? "md:grid-cols-[1fr_auto_auto]" : "md:grid-cols-[1fr_auto]"}`}>
          <Field label={`${TITLE[what]} name`} hint={NAME_HINT} error={(name && problem) || server || null}>
            <Input
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                if (!mutation.isPending) mutation.reset();
              }}
              disabled={Boolean(reason)}
              autoComplete="off"
              spellCheck={false}
              placeholder={placeholder}
            />
          </Field>
          {extra}
          <Button type="submit" disabled={Boolean(reason) || mutation.isPending || !name || Boolean(problem)} title={reason ?? undefined}>
            {mutation.isPending ? "Creating…" : `Create ${what}`}
          </Button>
        </div>
        <Reason>{reason}</Reason>
        <FormError message={mutation.error && !server ? errorMessage(mutation.error) : null} />
        {mutation.isSuccess ? <SuccessText>{TITLE[what]} created.</SuccessText> : null}
      </form>
    </Card>
  );
}

/** A row's Remove button, disabled with its reason while the thing is built in or in use. */
export function RemoveCell({ what, name, blocked, showReason, onRemove }: { what: What; name: string; blocked: string | null; showReason: boolean; onRemove: () => void }) {
  return (
    <td className={`${cell} text-right`}>
      <Button variant="ghostDanger" size="sm" disabled={Boolean(blocked)} title={blocked ?? undefined} aria-label={`Remove ${what} ${name}`} onClick={onRemove}>
        Remove
      </Button>
      {blocked && showReason ? (
        <div>
          <Reason>{blocked}</Reason>
        </div>
      ) : null}
    </td>
  );
}

/** Why no row can be removed here (a missing permission), once under the table rather than in every row. */
export function TableReason({ reason }: { reason: string | null }) {
  if (!reason) return null;
  return (
    <p className="mt-2">
      <Reason>{reason}</Reason>
    </p>
  );
}

/**
 * What a removal does once the agent answered: close the dialog and read the
 * list again; on a refusal (in use after all: a container joined since the
 * list was read, and the agent says by whom) keep the dialog with the reason,
 * and read the list again too.
 */
export function afterRemoval(onClose: () => void, refresh: () => Promise<unknown>) {
  return {
    onSuccess: async () => {
      onClose();
      await refresh();
    },
    onError: () => void refresh(),
  };
}

/** "Remove network backend?": what removing it costs, and the button that does it. */
export function RemoveDialog({
  what,
  name,
  mutation,
  onConfirm,
  onClose,
  children,
}: {
  what: What;
  name: string;
  mutation: { isPending: boolean; error: unknown };
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  return (
    <ConfirmDialog title={`Remove ${what} ${name}?`} confirmLabel={`Remove ${what}`} mutation={mutation} onConfirm={onConfirm} onClose={onClose}>
      <p>{children}</p>
    </ConfirmDialog>
  );
}
