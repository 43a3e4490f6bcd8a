import type { ReactNode } from "react";
import { errorMessage } from "@/components/trpc/errors";
import { RefreshButton } from "./button";
import { Card } from "./card";
import { ErrorText, Loading } from "./feedback";
import { plural } from "./format";

// Lists of things: a table with its header (sortable columns included), and
// the states around it (loading, failed, empty) so each page doesn't write them
// again. Rows are the page's own <tr>s; cells use `cell` for the same spacing.

export type SortOrder = "asc" | "desc";

export interface Column {
  label: ReactNode;
  /** Read by screen readers only (an actions column). */
  srOnly?: boolean;
  /** Extra classes of the header cell: a width (w-16) in a fixed layout. */
  className?: string;
  /** A column the list can be sorted by: its order when it is the sort key, else null. */
  sort?: { order: SortOrder | null; onSort: () => void };
}

/** The padding every cell of a DataTable has; add to it, e.g. `${cell} font-mono text-xs`. */
export const cell = "px-2 py-2";

export function DataTable({
  columns,
  testId,
  className = "",
  children,
}: {
  columns: (Column | string)[];
  testId: string;
  /** Extra classes of the <table>, e.g. a fixed layout with a minimum width. */
  className?: string;
  /** The rows (<tr>s). */
  children: ReactNode;
}) {
  return (
    <div className="overflow-x-auto">
      <table className={`w-full text-left text-sm ${className}`} data-testid={testId}>
        <thead className="text-xs uppercase text-slate-500">
          <tr>
            {columns.map((c, i) => (
              <HeaderCell key={i} column={typeof c === "string" ? { label: c } : c} />
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-200 dark:divide-slate-800">{children}</tbody>
      </table>
    </div>
  );
}

function HeaderCell({ column }: { column: Column }) {
  const { label, srOnly, className = "", sort } = column;
  if (srOnly) {
    return (
      <th className={`${cell} ${className}`}>
        <span className="sr-only">{label}</span>
      </th>
    );
  }
  if (!sort) return <th className={`${cell} ${className}`}>{label}</th>;
  return (
    <th className={`${cell} ${className}`} aria-sort={sort.order === "asc" ? "ascending" : sort.order === "desc" ? "descending" : "none"}>
      <button type="button" className="inline-flex items-center gap-1 uppercase hover:text-slate-800 dark:hover:text-slate-200" onClick={sort.onSort}>
        {label}
        <span aria-hidden className={sort.order ? "" : "opacity-30"}>
          {sort.order === "desc" ? "▼" : "▲"}
        </span>
      </button>
    </th>
  );
}

/**
 * What a list shows for its query: the error (after `errorPrefix`), "Loading…"
 * until data arrives, `empty` when there is nothing, else `children(data)`.
 */
export function QueryState<T>({
  query,
  errorPrefix = "",
  empty,
  isEmpty = (data) => Array.isArray(data) && data.length === 0,
  children,
}: {
  query: { error: unknown; data: T | undefined };
  errorPrefix?: string;
  empty?: ReactNode;
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  if (query.error) {
    return (
      <ErrorText>
        {errorPrefix}
        {errorMessage(query.error)}
      </ErrorText>
    );
  }
  if (query.data === undefined) return <Loading />;
  if (empty !== undefined && isEmpty(query.data)) return <>{empty}</>;
  return <>{children(query.data)}</>;
}

/**
 * A card listing what a query returns (the images on a host, its networks):
 * "3 images on web-1" once read, a Refresh button, the query's states, and
 * one row per item.
 */
export function ListCard<T>({
  noun,
  where,
  query,
  empty,
  columns,
  testId,
  footer,
  children,
}: {
  /** One item, lower case: "image". */
  noun: string;
  /** Where they are: "on web-1". */
  where: string;
  query: { error: unknown; data: T[] | undefined; isFetching: boolean; refetch: () => unknown };
  empty: ReactNode;
  columns: (Column | string)[];
  testId: string;
  /** Under the table (why its buttons are disabled). */
  footer?: ReactNode;
  children: (item: T) => ReactNode;
}) {
  const title = query.data ? `${plural(query.data.length, noun)} ${where}` : `${noun[0]!.toUpperCase()}${noun.slice(1)}s ${where}`;
  return (
    <Card title={title} actions={<RefreshButton query={query} />}>
      <QueryState query={query} errorPrefix={`Could not list the ${noun}s: `} empty={empty}>
        {(items) => (
          <>
            <DataTable testId={testId} columns={columns}>
              {items.map(children)}
            </DataTable>
            {footer}
          </>
        )}
      </QueryState>
    </Card>
  );
}
