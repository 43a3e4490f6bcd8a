"use client";
import Link from "next/link";
import { Badge, type Tone } from "@/components/ui/badge";
import { cell, DataTable } from "@/components/ui/data-table";
import { Note } from "@/components/ui/feedback";
import { formatDate } from "@/components/ui/format";
import type { NotificationView } from "./shared";

// Notification deliveries (of one alert, or of every channel): each with its
// attempts, the error of the last one, and when it is tried again.

const DELIVERY_TONE: Record<NotificationView["status"], Tone> = { pending: "slate", sent: "green", failed: "amber", dead: "red" };

/** Deliveries with their attempts: a failed one says why and when it is tried again; a dead one gave up. */
export function Deliveries({ items, testId, empty, showAlert }: { items: NotificationView[]; testId: string; empty: string; showAlert?: boolean }) {
  if (items.length === 0) return <Note>{empty}</Note>;
  return (
    <DataTable testId={testId} columns={["Channel", "Kind", "Status", "Attempts", "When", "Error", ...(showAlert ? ["Alert"] : [])]}>
      {items.map((n) => (
        <tr key={n.id} data-testid="delivery-row">
          <td className={`${cell} font-medium`}>{n.channelName}</td>
          <td className={cell}>{n.kind}</td>
          <td className={cell}>
            <Badge tone={DELIVERY_TONE[n.status]}>{n.status}</Badge>
          </td>
          <td className={`${cell} tabular-nums`}>{n.attempts}</td>
          <td className={`${cell} whitespace-nowrap text-xs text-slate-600 dark:text-slate-400`}>
            {n.sentAt ? (
              `sent ${formatDate(n.sentAt)}`
            ) : n.status === "dead" ? (
              "gave up"
            ) : (
              <>
                <div>queued {formatDate(n.createdAt)}</div>
                <div>next try {formatDate(n.nextAttemptAt)}</div>
              </>
            )}
          </td>
          <td className={`${cell} max-w-sm text-xs text-rose-700 [overflow-wrap:anywhere] dark:text-rose-400`}>{n.lastError ?? ""}</td>
          {showAlert ? (
            <td className={cell}>
              {n.alertId ? (
                <Link className="text-sky-700 hover:underline dark:text-sky-400" href={`/alerts/${encodeURIComponent(n.alertId)}`}>
                  open
                </Link>
              ) : (
                <span className="text-slate-400">test</span>
              )}
            </td>
          ) : null}
        </tr>
      ))}
    </DataTable>
  );
}
