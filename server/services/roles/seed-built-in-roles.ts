import "server-only";
import type { Db } from "../../db";
import { BUILT_IN_ROLES } from "../../../lib/permissions";

/** Creates or refreshes the built-in roles so their permissions track the code. */
export async function seedBuiltInRoles(db: Db): Promise<void> {
  for (const role of BUILT_IN_ROLES) {
    await db.role.upsert({
      where: { name: role.name },
      create: { name: role.name, description: role.description, builtIn: true, permissions: role.permissions },
      update: { description: role.description, builtIn: true, permissions: role.permissions },
    });
  }
}
