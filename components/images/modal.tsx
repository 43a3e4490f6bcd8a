"use client";
import { useId, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { FormError } from "@/components/ui/field";

// Dialogs of the resource pages: the native <dialog> (focus trap and Escape
// come with it), open while mounted. The parent mounts one to open it.

export function Modal({ title, busy, onClose, children }: { title: string; busy?: boolean; onClose: () => void; children: ReactNode }) {
  const titleId = useId();
  return (
    <dialog
      ref={(el) => {
        if (el && !el.open) el.showModal();
      }}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={(e) => {
        if (busy) e.preventDefault();
      }}
      className="m-auto w-full max-w-lg rounded-lg border border-slate-200 bg-white p-0 text-left text-slate-900 shadow-xl backdrop:bg-slate-900/40 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      <div className="space-y-4 p-5">
        <h2 id={titleId} className="text-base font-semibold">
          {title}
        </h2>
        {children}
      </div>
    </dialog>
  );
}

/** Asks before a destructive action; the confirm button stays disabled, with its reason, while `blocked` says why. */
export function ActionDialog({
  title,
  confirmLabel,
  pending,
  blocked,
  error,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  confirmLabel: string;
  pending: boolean;
  blocked?: string | null;
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  return (
    <Modal title={title} busy={pending} onClose={onClose}>
      <div className="space-y-3 text-sm">{children}</div>
      <FormError message={error} />
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
