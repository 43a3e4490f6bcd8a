"use client";
import type { ReactNode } from "react";

// A row of tabs (role="tablist"): the page keeps which one is selected and
// renders the panel itself (role="tabpanel", labelled by the tab).

export interface TabItem<T extends string> {
  id: T;
  label: string;
  /** Shown after the label (a count badge). */
  extra?: ReactNode;
}

export function TabList<T extends string>({ label, tabs, selected, onSelect }: { label: string; tabs: readonly TabItem<T>[]; selected: T; onSelect: (id: T) => void }) {
  return (
    <div role="tablist" aria-label={label} className="flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800">
      {tabs.map((t) => (
        <button
          key={t.id}
          type="button"
          role="tab"
          aria-selected={selected === t.id}
          onClick={() => onSelect(t.id)}
          className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${selected === t.id ? "border-sky-600 text-sky-700 dark:text-sky-400" : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400"}`}
        >
          {t.label}
          {t.extra}
        </button>
      ))}
    </div>
  );
}
