import type { ReactNode } from "react";
import { Button } from "./button";
import { Select } from "./field";

// Paging under a list: what is shown, how many per page, and the two steps.
// Page numbers (the containers list) and cursors (the audit log) both fit:
// each step is a label, whether it can be taken, and what taking it does.

interface Step {
  label: ReactNode;
  disabled: boolean;
  onClick: () => void;
}

export function Pagination({
  summary,
  position,
  pageSize,
  previous,
  next,
}: {
  /** "26–50 of 80". */
  summary?: ReactNode;
  /** "Page 2 of 4", between the steps. */
  position?: ReactNode;
  pageSize?: { value: number; options: number[]; onChange: (size: number) => void };
  previous: Step;
  next: Step;
}) {
  return (
    <nav className="mt-4 flex flex-wrap items-center justify-between gap-3 text-sm" aria-label="Pages">
      <span className="text-slate-600 dark:text-slate-400">{summary}</span>
      <div className="flex items-center gap-2">
        {pageSize ? (
          <label className="flex items-center gap-1 whitespace-nowrap text-xs text-slate-500">
            Per page
            <Select className="w-auto py-1" value={pageSize.value} onChange={(e) => pageSize.onChange(Number(e.target.value))}>
              {pageSize.options.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </Select>
          </label>
        ) : null}
        <Button variant="secondary" size="sm" disabled={previous.disabled} onClick={previous.onClick}>
          {previous.label}
        </Button>
        {position ? <span className="text-xs text-slate-500">{position}</span> : null}
        <Button variant="secondary" size="sm" disabled={next.disabled} onClick={next.onClick}>
          {next.label}
        </Button>
      </div>
    </nav>
  );
}
