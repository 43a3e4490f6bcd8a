"use client";
import type { ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Note } from "@/components/ui/feedback";
import { FieldError } from "@/components/ui/field";
import type { DeployFormState } from "./form-state";
import type { SectionProps } from "./section";

// The deploy form's repeated rows (variables, ports, mounts, labels, devices):
// each row edits one item of a list in the form, shows the first error of its
// fields, and has a ✕ to remove it.

type ListKey = "env" | "ports" | "mounts" | "labels" | "devices";
type RowOf<K extends ListKey> = DeployFormState[K][number];

/** Changes one field of the row, marking that field (or the whole row) touched. */
export type SetRow<R> = (patch: Partial<R>, field?: string) => void;

export function RowList<K extends ListKey>({
  list,
  noun,
  fields,
  form,
  update,
  errorOf,
  children,
}: SectionProps & {
  list: K;
  /** "variable": for the remove buttons' names ("Remove variable 2"). */
  noun: string;
  /** The row's fields whose errors show under it, first first. */
  fields: string[];
  children: (row: RowOf<K>, n: number, setRow: SetRow<RowOf<K>>, error: string | null) => ReactNode;
}) {
  const rows = form[list] as RowOf<K>[];
  return (
    <ul className="space-y-3">
      {rows.map((row, i) => {
        const at = `${list}.${row.key}`;
        const setRow: SetRow<RowOf<K>> = (patch, field) =>
          update({ [list]: rows.map((r) => (r.key === row.key ? { ...r, ...patch } : r)) } as Partial<DeployFormState>, field ? `${at}.${field}` : at);
        const error = fields.reduce<string | null>((found, f) => found ?? errorOf(`${at}.${f}`), null) ?? errorOf(at);
        return (
          <Row key={row.key} error={error} onRemove={() => update({ [list]: rows.filter((r) => r.key !== row.key) } as Partial<DeployFormState>)} removeLabel={`Remove ${noun} ${i + 1}`}>
            {children(row, i + 1, setRow, error)}
          </Row>
        );
      })}
    </ul>
  );
}

function Row({ children, error, onRemove, removeLabel }: { children: ReactNode; error: string | null; onRemove: () => void; removeLabel: string }) {
  return (
    <li className="space-y-1">
      <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
        {children}
        <Button variant="ghost" aria-label={removeLabel} title={removeLabel} onClick={onRemove} className="shrink-0">
          ✕
        </Button>
      </div>
      <FieldError message={error} />
    </li>
  );
}

export function AddButton({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <Button variant="secondary" size="xs" onClick={onClick}>
      + {label}
    </Button>
  );
}

/** A card holding one list of rows: its Add button, and a line saying what an empty list means. */
export function RowsCard<K extends ListKey>({
  title,
  addLabel,
  empty,
  add,
  ...list
}: Parameters<typeof RowList<K>>[0] & { title: string; addLabel: string; empty: ReactNode; add: () => RowOf<K> }) {
  const rows = list.form[list.list] as RowOf<K>[];
  return (
    <Card title={title} actions={<AddButton label={addLabel} onClick={() => list.update({ [list.list]: [...rows, add()] } as Partial<DeployFormState>)} />}>
      {rows.length === 0 ? <Note>{empty}</Note> : null}
      <RowList {...list} />
    </Card>
  );
}
