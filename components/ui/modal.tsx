"use client";
import { useId, type ReactNode } from "react";

// The console's dialogs: the native <dialog> (focus trap, Escape and the
// backdrop come with it), open while mounted. A parent opens one by rendering
// it and closes it by no longer rendering it; Escape asks it to, via onClose.

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
        // Escape while the action runs would hide its outcome: wait for it.
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
