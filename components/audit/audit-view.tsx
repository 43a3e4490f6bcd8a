"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useState } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button, buttonClass } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { cell, DataTable, QueryState } from "@/components/ui/data-table";
import { ErrorText } from "@/components/ui/feedback";
import { Field, Input, Select } from "@/components/ui/field";
import { HostPicker } from "@/components/ui/host-picker";
import { Pagination } from "@/components/ui/pagination";
import { OutcomeBadge } from "./outcome-badge";

interface Filters {
  actorId: string;
  action: string;
  outcome: "" | "success" | "denied" | "error";
  hostId: string;
  from: string;
  to: string;
  q: string;
}

const EMPTY: Filters = { actorId: "", action: "", outcome: "", hostId: "", from: "", to: "", q: "" };

function toQuery(f: Filters) {
  return {
    actorId: f.actorId || undefined,
    action: f.action.trim() || undefined,
    outcome: f.outcome || undefined,
    hostId: f.hostId.trim() || undefined,
    from: f.from ? new Date(f.from) : undefined,
    to: f.to ? new Date(f.to) : undefined,
    q: f.q.trim() || undefined,
  };
}

function exportHref(f: Filters, format: "csv" | "ndjson") {
  const q = toQuery(f);
  const params = new URLSearchParams({ format });
  for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, v instanceof Date ? v.toISOString() : v);
  return `/api/audit/export?${params}`;
}


export function AuditView({ canExport }: { canExport: boolean }) {
  const trpc = useTRPC();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [cursor, setCursor] = useState<{ before?: string; after?: string }>({});
  const [open, setOpen] = useState<string | null>(null);
  const query = useMemo(() => ({ ...toQuery(filters), ...cursor, limit: 50 }), [filters, cursor]);
  const page = useQuery(trpc.audit.page.queryOptions(query));
  const actors = useQuery(trpc.audit.actors.queryOptions());
  const hosts = useQuery(trpc.audit.hosts.queryOptions());
  const verify = useMutation(trpc.audit.verify.mutationOptions());

  const apply = (e: React.FormEvent) => {
    e.preventDefault();
    setFilters(draft);
    setCursor({});
  };
  const set = (k: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setDraft({ ...draft, [k]: e.target.value });

  return (
    <div className="space-y-4">
      <Card
        title="Chain integrity"
        actions={
          <Button variant="secondary" onClick={() => verify.mutate()} disabled={verify.isPending}>
            {verify.isPending ? "Verifying…" : "Verify"}
          </Button>
        }
      >
        <div aria-live="polite" className="text-sm">
          {verify.data ? (
            verify.data.ok ? (
              <p data-testid="verify-result" className="text-emerald-700 dark:text-emerald-400">
                ✓ Chain intact: {verify.data.checked} events checked
                {verify.data.checkpoint.status === "ok"
                  ? `; it holds the signed checkpoint of ${new Date(verify.data.checkpoint.at!).toLocaleString()} (event #${verify.data.checkpoint.id}).`
                  : "; no signed checkpoint yet."}
              </p>
            ) : (
              <p data-testid="verify-result" className="text-rose-700 dark:text-rose-400">
                ✗ Chain broken at event #{verify.data.firstBad?.id}: {verify.data.firstBad?.reason}.
              </p>
            )
          ) : verify.error ? (
            <ErrorText>{errorMessage(verify.error)}</ErrorText>
          ) : (
            <p className="text-slate-600 dark:text-slate-400">
              Each event carries the hash of the one before it, and ids have no gaps. Verify recomputes the whole chain, names the
              first event that doesn&apos;t fit, and checks that the chain still holds the last signed checkpoint (kept outside the
              database), so events cut off the end are caught too.
            </p>
          )}
        </div>
      </Card>

      <Card title="Filters">
        <form onSubmit={apply} className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4" aria-label="Audit filters">
          <Field label="Actor">
            <Select value={draft.actorId} onChange={set("actorId")} name="actorId">
              <option value="">Anyone</option>
              {actors.data?.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.email}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Action" hint="Prefix, e.g. users. or auth.sign_in">
            <Input value={draft.action} onChange={set("action")} name="action" />
          </Field>
          <Field label="Outcome">
            <Select value={draft.outcome} onChange={set("outcome")} name="outcome">
              <option value="">Any</option>
              <option value="success">Success</option>
              <option value="denied">Denied</option>
              <option value="error">Error</option>
            </Select>
          </Field>
          <Field label="Host">
            <HostPicker hosts={hosts.data ?? []} value={draft.hostId} onChange={(hostId) => setDraft({ ...draft, hostId })} emptyLabel="Any host" name="hostId" />
          </Field>
          <Field label="From">
            <Input type="datetime-local" value={draft.from} onChange={set("from")} name="from" />
          </Field>
          <Field label="To">
            <Input type="datetime-local" value={draft.to} onChange={set("to")} name="to" />
          </Field>
          <Field label="Search">
            <Input value={draft.q} onChange={set("q")} name="q" placeholder="Any text: email, IP, parameter…" />
          </Field>
          <div className="flex items-end gap-2">
            <Button type="submit">Apply</Button>
            <Button variant="ghost" onClick={() => { setDraft(EMPTY); setFilters(EMPTY); setCursor({}); }}>
              Clear
            </Button>
          </div>
        </form>
      </Card>

      <Card
        title="Events"
        actions={
          canExport ? (
            <div className="flex gap-2">
              <a className={buttonClass("secondary", "sm")} href={exportHref(filters, "csv")} download>
                Export CSV
              </a>
              <a className={buttonClass("secondary", "sm")} href={exportHref(filters, "ndjson")} download>
                Export NDJSON
              </a>
            </div>
          ) : null
        }
      >
        <QueryState
          query={page}
          empty={<EmptyState title="No matching events">Change or clear the filters to see more.</EmptyState>}
          isEmpty={(data) => data.events.length === 0}
        >
          {(data) => (
            // Fixed layout: long names and ids are cut (full text on hover), so every column stays in view.
            <DataTable
              testId="audit-table"
              className="min-w-[48rem] table-fixed"
              columns={[
                { label: "#", className: "w-16" },
                { label: "Time", className: "w-44" },
                "Actor",
                "Action",
                "Target",
                { label: "Outcome", className: "w-24" },
                { label: "Source", className: "w-28" },
              ]}
            >
              {data.events.map((e) => (
                <FragmentRow key={e.id} e={e} names={data.names} open={open === e.id} toggle={() => setOpen(open === e.id ? null : e.id)} />
              ))}
            </DataTable>
          )}
        </QueryState>
        <Pagination
          previous={{ label: "← Newer", disabled: !page.data?.newerCursor, onClick: () => setCursor({ after: page.data!.newerCursor! }) }}
          next={{ label: "Older →", disabled: !page.data?.olderCursor, onClick: () => setCursor({ before: page.data!.olderCursor! }) }}
        />
      </Card>
    </div>
  );
}

type Event = {
  id: string;
  createdAt: Date;
  actorType: string;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  hostId: string | null;
  outcome: string;
  sourceIp: string | null;
  userAgent: string | null;
  errorMessage: string | null;
  requestId: string | null;
  params: unknown;
  prevHash: string;
  hash: string;
};

type Names = Record<string, { label: string; href: string | null }>;

/** A database id (cuid) or a container/image id (hex) cut to what tells it apart. */
function shortId(id: string): string {
  if (/^(sha256:)?[0-9a-f]{32,}$/.test(id)) return id.replace(/^sha256:/, "").slice(0, 12);
  if (/^c[a-z0-9]{20,}$/.test(id)) return `${id.slice(0, 10)}…`;
  return id;
}

function Named({ type, id, names }: { type: string; id: string; names: Names }) {
  const named = names[`${type}:${id}`];
  const label = named?.label ?? shortId(id);
  const title = named ? `${type} ${named.label} (${id})` : `${type} ${id}`;
  return named?.href ? (
    <Link href={named.href} title={title} onClick={(e) => e.stopPropagation()} className="text-sky-700 hover:underline dark:text-sky-400">
      {label}
    </Link>
  ) : (
    <span title={title} className={named ? "" : "font-mono"}>
      {label}
    </span>
  );
}

const isIntent = (action: string) => action.endsWith(".intent");

function FragmentRow({ e, names, open, toggle }: { e: Event; names: Names; open: boolean; toggle: () => void }) {
  return (
    <>
      <tr className="cursor-pointer hover:bg-slate-50 dark:hover:bg-slate-800/50" onClick={toggle}>
        <td className={`${cell} font-mono text-xs`}>
          <button type="button" onClick={toggle} aria-expanded={open} className="underline-offset-2 hover:underline">
            {e.id}
          </button>
        </td>
        <td className={`${cell} whitespace-nowrap`}>{new Date(e.createdAt).toLocaleString()}</td>
        <td className={`${cell} truncate`} title={e.actorLabel ?? e.actorType}>{e.actorLabel ?? e.actorType}</td>
        <td className={`${cell} truncate font-mono text-xs`} title={e.action}>{e.action}</td>
        <td className={`${cell} truncate text-xs`} data-testid="audit-target">
          {e.targetType ? (
            <>
              <span className="text-slate-500">{e.targetType} </span>
              {e.targetId ? <Named type={e.targetType} id={e.targetId} names={names} /> : null}
            </>
          ) : (
            "—"
          )}
        </td>
        <td className={cell} data-testid="audit-outcome">
          {isIntent(e.action) ? (
            <Badge tone="sky">intent</Badge>
          ) : (
            <OutcomeBadge outcome={e.outcome} />
          )}
        </td>
        <td className={`${cell} truncate text-xs`} title={e.sourceIp ?? undefined}>{e.sourceIp ?? "—"}</td>
      </tr>
      {open ? (
        <tr>
          <td colSpan={7} className="bg-slate-50 px-4 py-3 text-xs dark:bg-slate-950">
            <dl className="grid gap-x-4 gap-y-1 sm:grid-cols-[10rem_1fr]">
              {e.errorMessage ? (<><dt className="text-slate-500">Error</dt><dd className="break-words">{e.errorMessage}</dd></>) : null}
              {e.targetType && e.targetId ? (<><dt className="text-slate-500">Target</dt><dd className="break-all">{e.targetType} {e.targetId}</dd></>) : null}
              <dt className="text-slate-500">Parameters</dt>
              <dd><pre className="whitespace-pre-wrap break-all font-mono">{JSON.stringify(e.params, null, 2)}</pre></dd>
              <dt className="text-slate-500">Host</dt>
              <dd>{e.hostId ? (<><Named type="host" id={e.hostId} names={names} /> <span className="font-mono text-slate-500">{e.hostId}</span></>) : "—"}</dd>
              <dt className="text-slate-500">User agent</dt><dd className="break-all">{e.userAgent ?? "—"}</dd>
              <dt className="text-slate-500">Request id</dt><dd className="font-mono">{e.requestId ?? "—"}</dd>
              <dt className="text-slate-500">Hash</dt><dd className="break-all font-mono">{e.hash}</dd>
              <dt className="text-slate-500">Previous hash</dt><dd className="break-all font-mono">{e.prevHash}</dd>
            </dl>
          </td>
        </tr>
      ) : null}
    </>
  );
}
