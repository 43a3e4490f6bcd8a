import "server-only";
import type { FleetServices } from "../../fleet/instance";
import { containerName } from "../containers/container-name";

// Networks and volumes on one host. Removing one in use is refused by the agent (409), and said so.

interface OnHost {
  services: FleetServices;
  hostId: string;
}

/** The host's networks, each with the names of the containers attached to it. */
export async function listNetworks(o: OnHost) {
  const client = o.services.fleet.client(o.hostId);
  const [networks, containers] = await Promise.all([client.networks({ timeoutMs: 10_000 }), client.containers({ all: true, timeoutMs: 10_000 })]);
  return networks.map((n) => ({
    ...n,
    containers: containers
      .filter((c) => Object.keys((c as { NetworkSettings?: { Networks?: Record<string, unknown> } }).NetworkSettings?.Networks ?? {}).includes(n.Name))
      .map(containerName),
  }));
}

export function createNetwork(o: OnHost & { name: string; internal: boolean }) {
  return o.services.fleet.client(o.hostId).createNetwork({ Name: o.name, Driver: "bridge", Internal: o.internal });
}

export async function removeNetwork(o: OnHost & { network: string }) {
  await o.services.fleet.client(o.hostId).removeNetwork(o.network);
  return { removed: true };
}

/** The host's volumes, each with the names of the containers mounting it. */
export async function listVolumes(o: OnHost) {
  const client = o.services.fleet.client(o.hostId);
  const [volumes, containers] = await Promise.all([client.volumes({ timeoutMs: 10_000 }), client.containers({ all: true, timeoutMs: 10_000 })]);
  return volumes.map((v) => ({
    ...v,
    containers: containers.filter((c) => ((c as { Mounts?: { Name?: string }[] }).Mounts ?? []).some((m) => m.Name === v.Name)).map(containerName),
  }));
}

export function createVolume(o: OnHost & { name: string }) {
  return o.services.fleet.client(o.hostId).createVolume({ Name: o.name });
}

export async function removeVolume(o: OnHost & { volume: string }) {
  await o.services.fleet.client(o.hostId).removeVolume(o.volume);
  return { removed: true };
}
