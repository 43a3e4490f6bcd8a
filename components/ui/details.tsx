import type { ReactNode } from "react";

// Facts about one thing (a host, a container) as label: value rows, two
// columns on wide screens.

export function DetailList({ testId, children }: { testId?: string; children: ReactNode }) {
  return (
    <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-2" data-testid={testId}>
      {children}
    </dl>
  );
}

/** One row; `wide` spans both columns (a command line, a message). Long values wrap anywhere rather than overflow. */
export function DetailItem({ label, wide, children }: { label: string; wide?: boolean; children: ReactNode }) {
  return (
    <div className={`flex justify-between gap-4 border-b border-slate-100 pb-1 dark:border-slate-800 ${wide ? "sm:col-span-2" : ""}`}>
      <dt className="shrink-0 text-slate-500">{label}</dt>
      <dd className="min-w-0 text-right font-medium [overflow-wrap:anywhere]">{children}</dd>
    </div>
  );
}
