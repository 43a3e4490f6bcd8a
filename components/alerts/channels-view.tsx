"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { cell, DataTable, QueryState } from "@/components/ui/data-table";
import { Callout, ErrorText, Note, SuccessText } from "@/components/ui/feedback";
import { formatDate } from "@/components/ui/format";
import { Deliveries } from "./deliveries";
import { ChannelForm } from "./channel-form";
import type { ChannelView } from "./shared";

// Notification channels: what each sends to (never its secret), whether its
// deliveries fail, a test-send with its answer, and the recent deliveries of
// every channel with their errors and retries.

const KIND_LABEL: Record<ChannelView["kind"], string> = { webhook: "Webhook", slack: "Slack", email: "Email" };

/** What a channel sends to, from the parts of its configuration that may be shown. */
function target(c: ChannelView): string {
  const cfg = c.config;
  const s = (k: string) => (typeof cfg[k] === "string" || typeof cfg[k] === "number" ? String(cfg[k]) : "");
  if (c.kind === "email") {
    const to = Array.isArray(cfg.to) ? (cfg.to as unknown[]).map(String).join(", ") : s("to");
    return `${s("host")}:${s("port")} (${s("security") || "starttls"}) · ${s("from")} → ${to}`;
  }
  return s("url") || s("host") || s("urlHost") || "—";
}

export function ChannelsView() {
  const trpc = useTRPC();
  const channels = useQuery({ ...trpc.channels.list.queryOptions(), refetchInterval: 15_000 });
  const [editing, setEditing] = useState<ChannelView | "new" | null>(null);
  const [removing, setRemoving] = useState<ChannelView | null>(null);
  const [notice, setNotice] = useState<{ message: string; secret: string | null } | null>(null);

  return (
    <div className="space-y-6">
      <Card
        title="Channels"
        actions={
          editing === null ? (
            <Button
              variant="secondary"
              onClick={() => {
                setNotice(null);
                setEditing("new");
              }}
            >
              New channel
            </Button>
          ) : null
        }
      >
        <div className="space-y-4">
          {notice ? <SuccessText>{notice.message}</SuccessText> : null}
          {notice?.secret ? (
            <Callout testId="secret-once">
              The signing secret, shown this once — copy it to the receiver now:{" "}
              <code className="font-mono text-xs break-all select-all" data-testid="channel-secret">
                {notice.secret}
              </code>
            </Callout>
          ) : null}
          {editing !== null ? (
            <ChannelForm
              key={editing === "new" ? "new" : editing.id}
              channel={editing === "new" ? null : editing}
              onDone={(message, secret) => {
                setEditing(null);
                setNotice({ message, secret });
              }}
              onCancel={() => setEditing(null)}
            />
          ) : null}
          <QueryState query={channels} errorPrefix="Could not list the channels: " empty={<Note>No channel yet. Alerts show in the console; add a channel to be told elsewhere.</Note>}>
            {(list) => (
              <DataTable testId="channels-table" columns={["Name", "Kind", "Sends to", "Secret", "Last delivery", "Test", { label: "Actions", srOnly: true }]}>
                {list.map((c) => (
                  <tr key={c.id} aria-label={`Channel ${c.name}`} data-testid="channel-row">
                    <td className={`${cell} font-medium`}>
                      {c.name} {c.enabled ? null : <Badge>disabled</Badge>}
                    </td>
                    <td className={cell}>{KIND_LABEL[c.kind]}</td>
                    <td className={`${cell} max-w-xs font-mono text-xs [overflow-wrap:anywhere]`}>{target(c)}</td>
                    <td className={`${cell} text-xs text-slate-500`}>{c.hasSecret ? "set, hidden" : "none"}</td>
                    <td className={`${cell} text-xs`}>
                      <div>{c.lastDeliveryAt ? formatDate(c.lastDeliveryAt) : "never"}</div>
                      {c.failing > 0 ? (
                        <div data-testid="channel-failing">
                          <Badge tone="red">{c.failing} failing</Badge>
                        </div>
                      ) : null}
                      {c.lastError ? <div className="text-rose-700 [overflow-wrap:anywhere] dark:text-rose-400">{c.lastError}</div> : null}
                    </td>
                    <td className={`${cell} min-w-40`}>
                      <TestSend channel={c} />
                    </td>
                    <td className={`${cell} whitespace-nowrap text-right`}>
                      <Button
                        variant="ghost"
                        size="sm"
                        aria-label={`Edit channel ${c.name}`}
                        onClick={() => {
                          setNotice(null);
                          setEditing(c);
                        }}
                      >
                        Edit
                      </Button>
                      <Button variant="ghostDanger" size="sm" aria-label={`Delete channel ${c.name}`} onClick={() => setRemoving(c)}>
                        Delete
                      </Button>
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
          </QueryState>
        </div>
      </Card>
      <RecentDeliveries />
      {removing ? (
        <RemoveChannel
          channel={removing}
          onClose={(removed) => {
            setRemoving(null);
            if (removed) setNotice({ message: `Deleted channel ${removing.name}.`, secret: null });
          }}
        />
      ) : null}
    </div>
  );
}

/** Sends a test message now and shows the answer: delivered, or the error as the receiver or server gave it. */
function TestSend({ channel }: { channel: ChannelView }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const test = useMutation(
    trpc.channels.testSend.mutationOptions({
      onSettled: () => Promise.all([qc.invalidateQueries(trpc.channels.list.pathFilter()), qc.invalidateQueries(trpc.channels.deliveries.pathFilter())]),
    }),
  );
  return (
    <div className="space-y-1">
      <Button variant="secondary" size="xs" aria-label={`Send a test message to ${channel.name}`} disabled={test.isPending} onClick={() => test.mutate({ id: channel.id })}>
        {test.isPending ? "Sending…" : "Send test"}
      </Button>
      {test.data?.ok ? (
        <SuccessText className="text-xs" testId="test-send-result">
          ✓ Test message delivered.
        </SuccessText>
      ) : test.data ? (
        <span role="alert" data-testid="test-send-result" className="block text-xs text-rose-700 [overflow-wrap:anywhere] dark:text-rose-400">
          ✗ {test.data.error ?? "The test message was not delivered."}
        </span>
      ) : test.error ? (
        <ErrorText small>{errorMessage(test.error)}</ErrorText>
      ) : null}
    </div>
  );
}

function RecentDeliveries() {
  const trpc = useTRPC();
  const deliveries = useQuery({ ...trpc.channels.deliveries.queryOptions({ limit: 50 }), refetchInterval: 15_000, retry: false });
  return (
    <Card title="Recent deliveries">
      <QueryState query={deliveries} errorPrefix="Could not list the deliveries: ">
        {(items) => <Deliveries items={items} testId="channel-deliveries" empty="Nothing sent yet." showAlert />}
      </QueryState>
    </Card>
  );
}

function RemoveChannel({ channel, onClose }: { channel: ChannelView; onClose: (removed: boolean) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const remove = useMutation(
    trpc.channels.remove.mutationOptions({
      onSuccess: async () => {
        await Promise.all([qc.invalidateQueries(trpc.channels.list.pathFilter()), qc.invalidateQueries(trpc.alerts.rules.pathFilter())]);
        onClose(true);
      },
    }),
  );
  return (
    <ConfirmDialog title={`Delete channel ${channel.name}?`} confirmLabel="Delete channel" mutation={remove} onConfirm={() => remove.mutate({ id: channel.id })} onClose={() => onClose(false)}>
      <p>Rules that send to it stop doing so; its sealed secret is deleted with it.</p>
    </ConfirmDialog>
  );
}
