import type { ContainerEngine } from "../engine/engine";
import { wireStatus } from "../engine/status";
import type { ImageService } from "../images/image-service";
import { directorySize } from "../state/disk-usage";
import type { VolumeStore } from "../volumes/store";
import { humanStatus } from "./container-views";
import { ApiError } from "./errors";

// GET /system/df: what images, containers and volumes take on disk, in the
// shape dockerd answers (API 1.42+ `type` selects parts). The CLI works out
// "reclaimable" from it: image bytes not shared with images in use
// (Size − SharedSize), stopped containers' writable layers, unused volumes.

const TYPES = ["container", "image", "volume", "build-cache"] as const;

export async function diskUsage(types: string[], engine: ContainerEngine, images: ImageService, volumes: VolumeStore) {
  for (const t of types) if (!(TYPES as readonly string[]).includes(t)) throw new ApiError(400, `unknown object type: ${t}`);
  const want = (t: (typeof TYPES)[number]) => types.length === 0 || types.includes(t);
  const containers = engine.list();
  const out: Record<string, unknown> = {};

  if (want("image")) {
    const records = images.list().map((i) => ({ summary: i, layers: images.resolve(i.id).layers }));
    // A layer (by its chain: the same bytes at the same place in the stack) is stored once, however many images use it.
    const users = new Map<string, number>();
    const sizes = new Map<string, number>();
    for (const r of records) {
      for (const l of r.layers) {
        users.set(l.chainId, (users.get(l.chainId) ?? 0) + 1);
        sizes.set(l.chainId, l.size);
      }
    }
    out.LayersSize = [...sizes.values()].reduce((a, b) => a + b, 0);
    out.Images = records.map(({ summary: i, layers }) => ({
      Id: i.id,
      ParentId: "",
      RepoTags: i.repoTags,
      RepoDigests: i.repoDigests,
      Created: i.created ? Math.floor(Date.parse(i.created) / 1000) : 0,
      Size: i.size,
      SharedSize: layers.filter((l) => (users.get(l.chainId) ?? 0) > 1).reduce((a, l) => a + l.size, 0),
      VirtualSize: i.size,
      Labels: {},
      Containers: containers.filter((c) => c.imageId === i.id).length,
    }));
  }

  if (want("container")) {
    const imageSize = (id: string) => images.list().find((i) => i.id === id)?.size ?? 0;
    out.Containers = await Promise.all(
      containers.map(async (c) => {
        const rw = await directorySize(engine.paths(c.id).upper);
        return {
          Id: c.id,
          Names: [`/${c.name}`],
          Image: c.config.Image,
          ImageID: c.imageId,
          Command: [c.path, ...c.args].join(" "),
          Created: Math.floor(Date.parse(c.created) / 1000),
          State: wireStatus(c.state.status),
          Status: humanStatus(c),
          SizeRw: rw,
          SizeRootFs: rw + imageSize(c.imageId),
          Labels: c.config.Labels,
          Mounts: [],
        };
      }),
    );
  }

  if (want("volume")) {
    out.Volumes = await Promise.all(
      volumes.list().map(async (v) => ({
        Name: v.Name,
        Driver: v.Driver,
        Mountpoint: v.Mountpoint,
        CreatedAt: v.CreatedAt,
        Labels: v.Labels,
        Scope: v.Scope,
        Options: v.Options,
        UsageData: { Size: await directorySize(v.Mountpoint), RefCount: engine.volumeUsers(v.Name).length },
      })),
    );
  }

  // The classic builder's cache is images (listed above); BuildKit's cache records don't exist here.
  if (want("build-cache")) out.BuildCache = [];
  return out;
}
