"use client";
import { useState } from "react";
import { ApprovalsInbox } from "./inbox";
import { ApprovalRules } from "./rules";

// The Approvals page: the inbox, and the rules saying where approval is needed.

type Tab = "inbox" | "rules";

export function ApprovalsTabs({ viewerId, mayManageRules, initialTab }: { viewerId: string; mayManageRules: boolean; initialTab?: string }) {
  const [tab, setTab] = useState<Tab>(initialTab === "rules" ? "rules" : "inbox");
  const tabs: { id: Tab; label: string }[] = [
    { id: "inbox", label: "Inbox" },
    { id: "rules", label: "Settings" },
  ];
  return (
    <div className="space-y-4">
      <div role="tablist" aria-label="Approvals" className="flex gap-1 border-b border-slate-200 dark:border-slate-800">
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            onClick={() => setTab(t.id)}
            className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${tab === t.id ? "border-sky-600 text-sky-700 dark:text-sky-400" : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400"}`}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={tabs.find((t) => t.id === tab)!.label}>
        {tab === "inbox" ? <ApprovalsInbox viewerId={viewerId} /> : <ApprovalRules mayManage={mayManageRules} />}
      </div>
    </div>
  );
}
