import "server-only";
import type { Viewer } from "../auth/access";
import type { Db } from "../db";
import type { FleetServices } from "../fleet/instance";

// What a use case is given by the boundary that calls it (a procedure, a REST
// route): the database, who asks, and the fleet.

/**
 * The fleet and the secret box, started on first use. For a mutation the first
 * call writes its audit intent (and refuses when that can't be written), so a
 * service calls it only after its own checks, right before it reaches a host.
 */
export type FleetAccess = () => Promise<FleetServices>;

export interface ServiceDeps {
  db: Db;
  viewer: Viewer;
  fleet: FleetAccess;
}
