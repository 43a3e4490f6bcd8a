"use client";
import type { ReactNode } from "react";
import { errorMessage } from "@/components/trpc/errors";
import { Button } from "./button";
import { FormError } from "./field";
import { Modal } from "./modal";

/**
 * Asks before an action that can't be taken back. Open while mounted (see
 * Modal). The confirm button stays disabled, with its reason beside it, while
 * `blocked` says why; while the `mutation` it starts runs, both buttons wait
 * and its error shows here.
 */
export function ConfirmDialog({
  title,
  confirmLabel,
  mutation,
  blocked,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  confirmLabel: string;
  mutation?: { isPending: boolean; error: unknown };
  blocked?: string | null;
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  const pending = mutation?.isPending ?? false;
  return (
    <Modal title={title} busy={pending} onClose={onClose}>
      <div className="space-y-3 text-sm">{children}</div>
      <FormError message={mutation?.error ? errorMessage(mutation.error) : null} />
      <div className="flex flex-wrap items-center justify-end gap-2">
        {blocked ? <span className="mr-auto text-xs text-slate-500">{blocked}</span> : null}
        <Button variant="secondary" onClick={onClose} disabled={pending}>
          Cancel
        </Button>
        <Button variant="danger" onClick={onConfirm} disabled={pending || Boolean(blocked)} title={blocked ?? undefined}>
          {pending ? "Working…" : confirmLabel}
        </Button>
      </div>
    </Modal>
  );
}
