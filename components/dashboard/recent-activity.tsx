"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Badge, Card } from "@/components/ui/card";
import { errorMessage, useTRPC } from "@/components/trpc/client";

const OUTCOME_TONE = { success: "green", denied: "amber", error: "red" } as const;
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
      {page.error ? (
        <p role="alert" className="text-sm text-rose-700 dark:text-rose-400">
          {errorMessage(page.error)}
        </p>
      ) : !page.data ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : page.data.events.length === 0 ? (
        <p className="text-sm text-slate-500">Nothing recorded yet.</p>
      ) : (
        <ol className="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="recent-activity">
          {page.data.events.map((e) => {
            const at = new Date(e.createdAt);
            return (
              <li key={e.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 py-2">
                <time dateTime={at.toISOString()} className="w-40 shrink-0 text-xs text-slate-500">
                  {at.toLocaleString()}
                </time>
                <span className="font-mono text-xs">{e.action}</span>
                <Badge tone={OUTCOME_TONE[e.outcome as keyof typeof OUTCOME_TONE] ?? "slate"}>{e.outcome}</Badge>
                <span className="min-w-0 flex-1 truncate text-xs text-slate-600 dark:text-slate-400">
                  {e.actorLabel ?? e.actorType}
                  {e.targetType ? ` → ${e.targetType}${e.targetId ? ` ${e.targetId}` : ""}` : ""}
                </span>
              </li>
            );
          })}
        </ol>
      )}
    </Card>
  );
}
