"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { cell, DataTable, QueryState } from "@/components/ui/data-table";
import { ErrorText, Note, SuccessText } from "@/components/ui/feedback";
import { ALERT_KINDS } from "@/lib/alerts/kinds";
import { RuleForm } from "./rule-form";
import { formatRepeat, formatSeconds, LabelChips, SeverityBadge, type AlertRuleView } from "./shared";

// The alert rules: what each watches, where, how long before it fires, its
// channels and how many of its alerts fire now. Built-in rules can be changed
// and disabled but not deleted.

export function RulesView({ canManage }: { canManage: boolean }) {
  const trpc = useTRPC();
  const rules = useQuery({ ...trpc.alerts.rules.queryOptions(), refetchInterval: 30_000 });
  const channels = useQuery({ ...trpc.channels.list.queryOptions(), enabled: canManage, retry: false });
  const [editing, setEditing] = useState<AlertRuleView | "new" | null>(null);
  const [removing, setRemoving] = useState<AlertRuleView | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const channelName = (id: string) => channels.data?.find((c) => c.id === id)?.name ?? "a channel";

  return (
    <Card
      title="Rules"
      actions={
        canManage && editing === null ? (
          <Button
            variant="secondary"
            onClick={() => {
              setNotice(null);
              setEditing("new");
            }}
          >
            New rule
          </Button>
        ) : null
      }
    >
      <div className="space-y-4">
        {!canManage ? <Note>Changing rules needs the alerts.manage permission.</Note> : null}
        {notice ? <SuccessText>{notice}</SuccessText> : null}
        {editing !== null ? (
          <RuleForm
            key={editing === "new" ? "new" : editing.id}
            rule={editing === "new" ? null : editing}
            onDone={(m) => {
              setEditing(null);
              setNotice(m);
            }}
            onCancel={() => setEditing(null)}
          />
        ) : null}
        <QueryState query={rules} errorPrefix="Could not list the rules: " empty={<Note>No rules. Add one to be told when something breaks.</Note>}>
          {(list) => (
            <DataTable testId="rules-table" columns={["Name", "Watches", "Severity", "Where", "For", "Repeat", "Channels", "Firing", "Enabled", { label: "Actions", srOnly: true }]}>
              {list.map((r) => (
                <tr key={r.id} aria-label={`Rule ${r.name}`} data-testid="rule-row">
                  <td className={`${cell} font-medium`}>
                    {r.name} {r.builtIn ? <Badge>built-in</Badge> : null}
                  </td>
                  <td className={`${cell} text-xs`}>
                    {ALERT_KINDS[r.kind]?.label ?? r.kind}
                    {Object.keys(r.params).length > 0 ? (
                      <span className="block text-slate-500">
                        {Object.entries(r.params)
                          .map(([k, v]) => `${k} ${String(v)}`)
                          .join(", ")}
                      </span>
                    ) : null}
                  </td>
                  <td className={cell}>
                    <SeverityBadge severity={r.severity} />
                  </td>
                  <td className={`${cell} text-xs`}>
                    {ALERT_KINDS[r.kind]?.subject === "global" ? "Berth" : r.scopeLabel}
                    {Object.keys(r.labelSelector).length > 0 ? <LabelChips labels={r.labelSelector} /> : null}
                  </td>
                  <td className={`${cell} whitespace-nowrap text-xs`}>{formatSeconds(r.forSeconds)}</td>
                  <td className={`${cell} whitespace-nowrap text-xs`}>{formatRepeat(r.repeatMinutes)}</td>
                  <td className={`${cell} text-xs`}>{r.channelIds.length === 0 ? <span className="text-slate-400">none</span> : r.channelIds.map(channelName).join(", ")}</td>
                  <td className={cell}>
                    {r.firing > 0 ? (
                      <Link href={`/alerts`} data-testid="rule-firing">
                        <Badge tone="red">{r.firing} firing</Badge>
                      </Link>
                    ) : (
                      <span className="text-xs text-slate-400">0</span>
                    )}
                  </td>
                  <td className={cell}>
                    <EnabledToggle rule={r} canManage={canManage} />
                  </td>
                  <td className={`${cell} whitespace-nowrap text-right`}>
                    {canManage ? (
                      <>
                        <Button
                          variant="ghost"
                          size="sm"
                          aria-label={`Edit rule ${r.name}`}
                          onClick={() => {
                            setNotice(null);
                            setEditing(r);
                          }}
                        >
                          Edit
                        </Button>
                        {r.builtIn ? (
                          <span className="px-2 text-xs text-slate-500" title="Built-in rules can be disabled but not deleted.">
                            built-in
                          </span>
                        ) : (
                          <Button variant="ghostDanger" size="sm" aria-label={`Delete rule ${r.name}`} onClick={() => setRemoving(r)}>
                            Delete
                          </Button>
                        )}
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </QueryState>
      </div>
      {removing ? (
        <RemoveRule
          rule={removing}
          onClose={(removed) => {
            setRemoving(null);
            if (removed) setNotice(`Deleted rule ${removing.name}.`);
          }}
        />
      ) : null}
    </Card>
  );
}

function EnabledToggle({ rule, canManage }: { rule: AlertRuleView; canManage: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const update = useMutation(trpc.alerts.updateRule.mutationOptions({ onSuccess: () => qc.invalidateQueries(trpc.alerts.rules.pathFilter()) }));
  return (
    <div>
      <label className="flex items-center gap-1.5 text-xs">
        <input
          type="checkbox"
          aria-label={`Rule ${rule.name} enabled`}
          checked={rule.enabled}
          disabled={!canManage || update.isPending}
          onChange={(e) => update.mutate({ id: rule.id, enabled: e.target.checked })}
        />
        {rule.enabled ? "on" : "off"}
      </label>
      {update.error ? <ErrorText small>{errorMessage(update.error)}</ErrorText> : null}
    </div>
  );
}

function RemoveRule({ rule, onClose }: { rule: AlertRuleView; onClose: (removed: boolean) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const remove = useMutation(
    trpc.alerts.removeRule.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries(trpc.alerts.rules.pathFilter());
        onClose(true);
      },
    }),
  );
  return (
    <ConfirmDialog title={`Delete rule ${rule.name}?`} confirmLabel="Delete rule" mutation={remove} onConfirm={() => remove.mutate({ id: rule.id })} onClose={() => onClose(false)}>
      <p>It stops watching at once, and its alerts (firing and past) leave the history with it. To keep them, disable the rule instead.</p>
    </ConfirmDialog>
  );
}
