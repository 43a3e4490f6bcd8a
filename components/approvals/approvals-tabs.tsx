"use client";
import { useState } from "react";
import { TabList } from "@/components/ui/tabs";
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
      <TabList label="Approvals" tabs={tabs} selected={tab} onSelect={setTab} />
      <div role="tabpanel" aria-label={tabs.find((t) => t.id === tab)!.label}>
        {tab === "inbox" ? <ApprovalsInbox viewerId={viewerId} /> : <ApprovalRules mayManage={mayManageRules} />}
      </div>
    </div>
  );
}
