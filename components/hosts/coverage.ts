import type { HostCoverage } from "@/server/auth/access";

// Where one of the viewer's permissions reaches, as a server page computed it
// (hostCoverage) and handed to the console: every host, some hosts, some host
// groups. The console uses it to enable or explain its controls; the server
// checks every call again.

export type { HostCoverage };

/** Whether the coverage includes the host. A host whose group is unknown counts only by id (fails closed). */
export function covers(coverage: HostCoverage, host: { id: string; hostGroupId?: string | null }): boolean {
  return coverage.all || coverage.hostIds.includes(host.id) || (host.hostGroupId != null && coverage.hostGroupIds.includes(host.hostGroupId));
}

/** Why a control on one host is disabled. */
export function needsPermission(permission: string): string {
  return `Needs the ${permission} permission on this host.`;
}

/** The reason a permission is missing on the host, or null when the coverage includes it. */
export function reasonOn(coverage: HostCoverage, host: { id: string; hostGroupId?: string | null }, permission: string): string | null {
  return covers(coverage, host) ? null : needsPermission(permission);
}
