// The one table of permission strings. `scope` says where a grant can come
// from: "host" permissions can be granted on a host or host group (and
// globally); "global" ones only by a global binding; "self" ones concern only
// the holder's own account, so a binding on any scope grants them (a Viewer of
// one host group manages their own API tokens like anyone else).
export const PERMISSIONS = {
  "hosts.read": { scope: "host", description: "See hosts and their facts" },
  "hosts.manage": { scope: "host", description: "Add, change and remove hosts; set deploy policy" },
  "containers.read": { scope: "host", description: "List and inspect containers" },
  "containers.deploy": { scope: "host", description: "Create and update containers" },
  "containers.control": { scope: "host", description: "Start, stop, restart, pause containers" },
  "containers.delete": { scope: "host", description: "Remove containers" },
  "containers.exec": { scope: "host", description: "Open a shell in a container" },
  "containers.logs": { scope: "host", description: "Read container logs" },
  "images.read": { scope: "host", description: "List and inspect images" },
  "images.pull": { scope: "host", description: "Pull images" },
  "images.delete": { scope: "host", description: "Remove images" },
  "images.build": { scope: "host", description: "Build images" },
  "networks.manage": { scope: "host", description: "Create and remove networks" },
  "volumes.manage": { scope: "host", description: "Create and remove volumes" },
  "stacks.read": { scope: "host", description: "See stacks, their versions, files and logs" },
  "stacks.deploy": { scope: "host", description: "Apply and roll back stacks" },
  "stacks.control": { scope: "host", description: "Start, stop, restart and scale a stack's services" },
  "stacks.delete": { scope: "host", description: "Take stacks down (and remove their volumes)" },
  "deploys.approve": { scope: "host", description: "Approve or reject deploys, updates and rollbacks where approval is required" },
  "secrets.manage": { scope: "global", description: "Create, change and delete the secrets stacks mount (values are never shown)" },
  "registries.manage": { scope: "global", description: "Manage registry credentials" },
  "users.manage": { scope: "global", description: "Create, disable users and bind roles" },
  "roles.manage": { scope: "global", description: "Create and change custom roles" },
  "audit.read": { scope: "global", description: "Read the audit log" },
  "audit.export": { scope: "global", description: "Export the audit log" },
  "tokens.manage": { scope: "self", description: "Manage one's own API tokens" },
  "alerts.read": { scope: "host", description: "See alerts and stats history of hosts and their containers" },
  "alerts.silence": { scope: "host", description: "Silence alerts of hosts and their containers" },
  "alerts.manage": { scope: "global", description: "Manage alert rules and notification channels" },
  "metrics.read": { scope: "global", description: "Scrape the gateway's Prometheus metrics (/metrics)" },
} as const satisfies Record<string, { scope: PermissionScope; description: string }>;

export type PermissionScope = "host" | "global" | "self";

export type Permission = keyof typeof PERMISSIONS;

export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}

const READ: Permission[] = ["hosts.read", "containers.read", "images.read"];

// Every built-in role may keep its own API tokens: a token never does more
// than its owner may do at the time, so it gives nobody anything new.

// Built-in roles. Seeded at start-up; they can't be edited or deleted.
export const BUILT_IN_ROLES: { name: string; description: string; permissions: Permission[] }[] = [
  {
    name: "Owner",
    description: "Everything, including granting Owner. The first user is an Owner.",
    permissions: ALL_PERMISSIONS,
  },
  {
    name: "Admin",
    description: "Everything except granting or removing the Owner role.",
    permissions: ALL_PERMISSIONS,
  },
  {
    name: "Operator",
    description: "Runs workloads: deploy, control, exec, images, networks and volumes.",
    permissions: [
      ...READ,
      "containers.deploy",
      "containers.control",
      "containers.delete",
      "containers.exec",
      "containers.logs",
      "images.pull",
      "images.delete",
      "images.build",
      "networks.manage",
      "volumes.manage",
      "stacks.read",
      "stacks.deploy",
      "stacks.control",
      "stacks.delete",
      "tokens.manage",
      "alerts.read",
      "alerts.silence",
    ],
  },
  {
    name: "Deployer",
    description: "Deploys and restarts containers and pulls images; no exec, no deletes.",
    permissions: [...READ, "containers.deploy", "containers.control", "containers.logs", "images.pull", "stacks.read", "stacks.deploy", "tokens.manage", "alerts.read"],
  },
  {
    name: "Viewer",
    description: "Read-only: hosts, containers, images and logs.",
    permissions: [...READ, "containers.logs", "stacks.read", "tokens.manage", "alerts.read"],
  },
  {
    name: "Auditor",
    description: "Reads and exports the audit log; sees what exists but changes nothing.",
    permissions: [...READ, "audit.read", "audit.export", "tokens.manage"],
  },
];

export const OWNER_ROLE = "Owner";
