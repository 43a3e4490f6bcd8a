"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { OutcomeBadge } from "@/components/audit/outcome-badge";
import { useTRPC } from "@/components/trpc/client";
import { Card } from "@/components/ui/card";
import { QueryState } from "@/components/ui/data-table";
import { Note } from "@/components/ui/feedback";

const RECENT = 10;

/** The last few audit events, newest first, with a way into the full log. */
export function RecentActivity() {
  const trpc = useTRPC();
  const page = useQuery({ ...trpc.audit.list.queryOptions({ limit: RECENT }), staleTime: 15_000 });
  return (
    <Card
      title="Recent activity"
      actions={
        <Link href="/audit" className="text-sm text-sky-700 hover:underline dark:text-sky-400">
          Open the audit log
        </Link>
      }
    >
      <QueryState query={page} empty={<Note>Nothing recorded yet.</Note>} isEmpty={(data) => data.events.length === 0}>
        {(data) => (
          <ol className="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="recent-activity">
            {data.events.map((e) => {
              const at = new Date(e.createdAt);
              return (
                <li key={e.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 py-2">
                  <time dateTime={at.toISOString()} className="w-40 shrink-0 text-xs text-slate-500">
                    {at.toLocaleString()}
                  </time>
                  <span className="font-mono text-xs">{e.action}</span>
                  <OutcomeBadge outcome={e.outcome} />
                  <span className="min-w-0 flex-1 truncate text-xs text-slate-600 dark:text-slate-400">
                    {e.actorLabel ?? e.actorType}
                    {e.targetType ? ` → ${e.targetType}${e.targetId ? ` ${e.targetId}` : ""}` : ""}
                  </span>
                </li>
              );
            })}
          </ol>
        )}
      </QueryState>
    </Card>
  );
}
