import type { Permission } from "@/lib/permissions";

// The stacks permissions by name, for the console's pages and nav.
// (Typed through Permission so a rename in lib/permissions.ts breaks here.)

export const STACKS_READ = "stacks.read" as Permission;
export const STACKS_DEPLOY = "stacks.deploy" as Permission;
export const STACKS_CONTROL = "stacks.control" as Permission;
export const STACKS_DELETE = "stacks.delete" as Permission;
export const SECRETS_MANAGE = "secrets.manage" as Permission;
