"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { cell, DataTable } from "@/components/ui/data-table";
import { ErrorText, Loading, Note, Reason } from "@/components/ui/feedback";
import { Field, FormError, Input, Select } from "@/components/ui/field";
import { FormActions, FormPanel } from "@/components/ui/form";
import { formatDate } from "@/components/ui/format";

// Which hosts and host groups require approval for deploys, updates and roll
// backs by anyone without deploys.approve, and how long a request waits.

export function ApprovalRules({ mayManage }: { mayManage: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const rules = useQuery({ ...trpc.approvals.rules.queryOptions(), retry: false });
  const [adding, setAdding] = useState(false);
  const remove = useMutation(trpc.approvals.removeRule.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.approvals.rules.queryKey() }) }));
  return (
    <Card
      title="Approval rules"
      actions={
        mayManage ? (
          adding ? null : (
            <Button variant="secondary" size="sm" onClick={() => setAdding(true)}>
              Require approval
            </Button>
          )
        ) : (
          <Reason>Changing rules needs the hosts.manage permission.</Reason>
        )
      }
    >
      <div className="space-y-4">
        <p className="text-xs text-slate-500">
          On these hosts, a deploy, update or roll back by someone without deploys.approve waits for an approver (never the requester). Webhook rollouts wait too, unless the
          webhook was made pre-approved by an approver.
        </p>
        {adding ? <AddRuleForm onDone={() => setAdding(false)} /> : null}
        {rules.error ? <ErrorText>{errorMessage(rules.error)}</ErrorText> : null}
        {rules.isPending ? <Loading /> : null}
        {remove.error ? <ErrorText>{errorMessage(remove.error)}</ErrorText> : null}
        {rules.data ? (
          rules.data.length === 0 ? (
            <Note>No host requires approval.</Note>
          ) : (
            <DataTable testId="approval-rules" columns={["Scope", "Requests expire after", "Since", { label: "Actions", srOnly: true }]}>
              {rules.data.map((r) => (
                <tr key={r.id} aria-label={`Rule for ${r.scope.name}`}>
                  <td className={`${cell} font-medium`}>
                    {r.scope.name} <span className="text-xs font-normal text-slate-500">{r.scope.kind === "hostGroup" ? "host group" : "host"}</span>
                  </td>
                  <td className={cell}>{r.expiryHours} h</td>
                  <td className={`${cell} text-xs`}>{formatDate(r.createdAt)}</td>
                  <td className={`${cell} text-right`}>
                    {mayManage ? (
                      <Button variant="ghostDanger" size="sm" aria-label={`Stop requiring approval on ${r.scope.name}`} disabled={remove.isPending} onClick={() => remove.mutate({ id: r.id })}>
                        Remove
                      </Button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        ) : null}
      </div>
    </Card>
  );
}

function AddRuleForm({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), retry: false });
  const groups = useQuery({ ...trpc.hosts.groups.queryOptions(), retry: false });
  const [scope, setScope] = useState("");
  const [hours, setHours] = useState("72");
  const set = useMutation(trpc.approvals.setRule.mutationOptions());
  const n = Number(hours);
  const hoursProblem = !/^\d+$/.test(hours) || n < 1 || n > 720 ? "Whole hours from 1 to 720 (30 days)." : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!scope || hoursProblem) return;
    const [kind, id] = scope.split(":") as ["host" | "group", string];
    set.mutate(
      { ...(kind === "host" ? { hostId: id } : { hostGroupId: id }), expiryHours: n },
      {
        onSuccess: async () => {
          await qc.invalidateQueries({ queryKey: trpc.approvals.rules.queryKey() });
          onDone();
        },
      },
    );
  };
  return (
    <FormPanel title="Require approval" onSubmit={submit}>
      <Field label="Hosts">
        <Select value={scope} onChange={(e) => setScope(e.target.value)} required>
          <option value="">Choose a host group or a host…</option>
          {groups.data?.length ? (
            <optgroup label="Host groups">
              {groups.data.map((g) => (
                <option key={g.id} value={`group:${g.id}`}>
                  {g.name}
                </option>
              ))}
            </optgroup>
          ) : null}
          {hosts.data?.length ? (
            <optgroup label="Hosts">
              {hosts.data.map((h) => (
                <option key={h.id} value={`host:${h.id}`}>
                  {h.name}
                </option>
              ))}
            </optgroup>
          ) : null}
        </Select>
      </Field>
      <Field label="Requests expire after (hours)" error={hoursProblem}>
        <Input type="number" min={1} max={720} value={hours} onChange={(e) => setHours(e.target.value)} />
      </Field>
      <FormError message={set.error ? errorMessage(set.error) : null} />
      <FormActions submitLabel="Save rule" pendingLabel="Saving…" pending={set.isPending} disabled={!scope || Boolean(hoursProblem)} onCancel={onDone} />
    </FormPanel>
  );
}
