import type { Permission } from "@/lib/permissions";

// The stacks permissions by name, for the console's pages and nav.
// (Typed as Permission: a rename in lib/permissions.ts breaks here.)

export const STACKS_READ: Permission = "stacks.read";
export const STACKS_DEPLOY: Permission = "stacks.deploy";
export const STACKS_CONTROL: Permission = "stacks.control";
export const STACKS_DELETE: Permission = "stacks.delete";
export const SECRETS_MANAGE: Permission = "secrets.manage";
