import "server-only";
import { redirect } from "next/navigation";
import type { AlertsTab } from "@/components/alerts/shared";
import { hasPermission, hostCoverage, type HostCoverage, type Viewer } from "@/server/auth/access";

// What the alert pages may show the viewer; every call is checked again on the server.

export interface AlertsAccess {
  read: boolean;
  manage: boolean;
  silence: HostCoverage;
  canSilence: boolean;
  canVerifyAudit: boolean;
  tabs: AlertsTab[];
}

export function alertsAccess(viewer: Viewer): AlertsAccess {
  const read = hasPermission(viewer, "alerts.read");
  const manage = hasPermission(viewer, "alerts.manage");
  const canSilence = hasPermission(viewer, "alerts.silence");
  const tabs: AlertsTab[] = [];
  if (read) tabs.push("/alerts", "/alerts/rules");
  if (manage) tabs.push("/alerts/channels");
  if (read) tabs.push("/alerts/silences");
  return {
    read,
    manage,
    silence: hostCoverage(viewer, "alerts.silence"),
    canSilence,
    canVerifyAudit: hasPermission(viewer, "audit.read"),
    tabs,
  };
}

export const NEEDS_ALERTS_READ = "Alerts need the alerts.read permission.";

/** Pages that list alerts, rules or silences need alerts.read; someone who only manages channels is sent to them. */
export function requireAlertsRead(access: AlertsAccess): boolean {
  if (access.read) return true;
  if (access.manage) redirect("/alerts/channels");
  return false;
}
