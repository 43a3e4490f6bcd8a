import "server-only";
import type { FleetServices } from "../../fleet/instance";
import { containerName } from "../containers/container-name";

/** The host's images, each with the containers made from it. */
export async function listImages(o: { services: FleetServices; hostId: string }) {
  const client = o.services.fleet.client(o.hostId);
  const [images, containers] = await Promise.all([client.images({ timeoutMs: 10_000 }), client.containers({ all: true, timeoutMs: 10_000 })]);
  return images.map((img) => ({
    id: img.Id,
    tags: img.RepoTags ?? [],
    digests: img.RepoDigests ?? [],
    created: img.Created,
    size: img.Size,
    containers: containers.filter((c) => c.ImageID === img.Id).map((c) => ({ id: c.Id, name: containerName(c), state: c.State })),
  }));
}

export async function removeImage(o: { services: FleetServices; hostId: string; image: string; force: boolean }) {
  await o.services.fleet.client(o.hostId).removeImage(o.image, { force: o.force });
  return { removed: true };
}

export async function tagImage(o: { services: FleetServices; hostId: string; image: string; target: string }): Promise<{ tagged: string }> {
  await o.services.fleet.client(o.hostId).tagImage(o.image, o.target);
  return { tagged: o.target };
}
