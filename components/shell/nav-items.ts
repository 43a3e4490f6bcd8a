import type { Permission } from "@/lib/permissions";

export interface NavItem {
  href: string;
  label: string;
  /** Shown when the user holds any of these (none: everyone signed in). */
  anyOf?: Permission[];
  /** A live count beside the label (the approvals waiting for the viewer). */
  badge?: "approvals";
}

export const NAV_ITEMS: NavItem[] = [
  { href: "/", label: "Dashboard" },
  { href: "/hosts", label: "Hosts", anyOf: ["hosts.read"] },
  { href: "/containers", label: "Containers", anyOf: ["containers.read"] },
  { href: "/deploy", label: "Deploy", anyOf: ["containers.deploy"] },
  { href: "/stacks", label: "Stacks", anyOf: ["stacks.read"] },
  { href: "/deployments", label: "Deployments", anyOf: ["containers.read"] },
  { href: "/rollouts", label: "Rollouts", anyOf: ["containers.read", "stacks.read"] },
  { href: "/approvals", label: "Approvals", anyOf: ["deploys.approve", "containers.deploy", "stacks.deploy"], badge: "approvals" },
  { href: "/images", label: "Images", anyOf: ["images.read"] },
  { href: "/networks", label: "Networks", anyOf: ["containers.read"] },
  { href: "/volumes", label: "Volumes", anyOf: ["containers.read"] },
  { href: "/policy", label: "Policy", anyOf: ["hosts.manage", "hosts.read"] },
  { href: "/secrets", label: "Secrets", anyOf: ["secrets.manage"] },
  { href: "/audit", label: "Audit", anyOf: ["audit.read"] },
  { href: "/users", label: "Users & roles", anyOf: ["users.manage", "roles.manage"] },
  { href: "/settings", label: "Settings" },
];

export function visibleNav(permissions: readonly string[]): NavItem[] {
  return NAV_ITEMS.filter((i) => !i.anyOf || i.anyOf.some((p) => permissions.includes(p)));
}
