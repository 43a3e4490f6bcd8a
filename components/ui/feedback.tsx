import type { ReactNode } from "react";

// How a page says where things stand: loading, an error, a success, a warning,
// and why a control is disabled. The roles are part of the contract: an error
// is an alert, a success or a warning a status.

/** A quiet line: "Loading…", "No labels.", what a list holds when it holds nothing. */
export function Note({ children }: { children: ReactNode }) {
  return <p className="text-sm text-slate-500">{children}</p>;
}

export function Loading({ children = "Loading…" }: { children?: ReactNode }) {
  return <Note>{children}</Note>;
}

/** A failed read or action, in a sentence; `small` (a line of its own) under a small control. */
export function ErrorText({ children, small, className = "" }: { children: ReactNode; small?: boolean; className?: string }) {
  if (small) {
    return (
      <span role="alert" className={`block text-xs text-rose-700 dark:text-rose-400 ${className}`}>
        {children}
      </span>
    );
  }
  return (
    <p role="alert" className={`text-sm text-rose-700 dark:text-rose-400 ${className}`}>
      {children}
    </p>
  );
}

/** What just succeeded, announced to screen readers. */
export function SuccessText({ children, className = "", testId }: { children: ReactNode; className?: string; testId?: string }) {
  return (
    <p role="status" className={`text-sm text-emerald-700 dark:text-emerald-400 ${className}`} data-testid={testId}>
      {children}
    </p>
  );
}

/** A boxed notice above what it is about: amber for a warning, slate for a plain note. */
export function Callout({ tone = "amber", testId, children }: { tone?: "amber" | "slate"; testId?: string; children: ReactNode }) {
  const tones = {
    amber: "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200",
    slate: "border-slate-200 bg-slate-50 text-slate-700 dark:border-slate-800 dark:bg-slate-900 dark:text-slate-300",
  };
  return (
    <p role="status" className={`rounded-md border px-4 py-2 text-sm ${tones[tone]}`} data-testid={testId}>
      {children}
    </p>
  );
}

/** A disabled control's reason, shown next to it (a title alone is invisible on touch screens and to many readers). */
export function Reason({ children }: { children: ReactNode }) {
  if (!children) return null;
  return <span className="text-xs text-slate-500 dark:text-slate-400">{children}</span>;
}
