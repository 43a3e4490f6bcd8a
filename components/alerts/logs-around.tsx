"use client";
import { useQuery } from "@tanstack/react-query";
import { ButtonLink } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ErrorText, Loading, Note } from "@/components/ui/feedback";
import { formatDate } from "@/components/ui/format";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { logWindow } from "./format";

// The container's log around the time its alert fired: from a few minutes
// before until it resolved (or a few minutes after), with timestamps; and a
// link to the container's full log viewer.

const MAX_LINES = 500;

export function LogsAround({
  hostId,
  containerId,
  firedAt,
  resolvedAt,
  allowed,
}: {
  hostId: string;
  containerId: string;
  firedAt: Date;
  resolvedAt: Date | null;
  /** Whether the viewer may read this host's logs (else the reason is shown instead). */
  allowed: boolean;
}) {
  const trpc = useTRPC();
  const range = logWindow(firedAt, resolvedAt);
  const logs = useQuery({
    ...trpc.containers.logs.queryOptions({ hostId, containerId, tail: MAX_LINES, timestamps: true, ...range }),
    enabled: allowed,
    retry: false,
  });
  const text = (logs.data ?? []).map((f) => f.text).join("");
  return (
    <Card
      title={`Logs from ${formatDate(range.since * 1000)} to ${formatDate(range.until * 1000)}`}
      actions={
        <ButtonLink variant="secondary" size="sm" href={`/containers/${encodeURIComponent(hostId)}/${encodeURIComponent(containerId)}?tab=logs`}>
          Open the container&apos;s logs
        </ButtonLink>
      }
    >
      {!allowed ? (
        <Note>Reading this container&apos;s logs needs the containers.logs permission on its host.</Note>
      ) : logs.error ? (
        <ErrorText>Could not read the logs: {errorMessage(logs.error)}</ErrorText>
      ) : !logs.data ? (
        <Loading />
      ) : text.trim() === "" ? (
        <Note>The container wrote nothing in this window.</Note>
      ) : (
        <pre
          data-testid="alert-logs"
          aria-label="Log lines around the alert"
          className="max-h-96 overflow-auto rounded-md bg-slate-950 p-2 font-mono text-xs leading-5 whitespace-pre-wrap text-slate-100"
        >
          {text}
        </pre>
      )}
    </Card>
  );
}
