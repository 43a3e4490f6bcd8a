import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { OverlaySnapshotter } from "../snapshots/snapshotter";
import { lockRoot } from "../state/root-lock";
import { ContentStore } from "./content-store";
import { ImageRecords } from "./image-records";
import { ImageService } from "./image-service";
import { RegistryClient, type RegistryClientOptions } from "./registry-client";

/** Builds the image store under an agent root: content/, snapshots/, images/, tmp/. */
export async function createImageService(root: string, registry: RegistryClientOptions = {}): Promise<ImageService> {
  const content = new ContentStore(path.join(root, "content"));
  const snapshots = new OverlaySnapshotter(path.join(root, "snapshots"));
  const records = new ImageRecords(root);
  await mkdir(root, { recursive: true, mode: 0o700 });
  lockRoot(root);
  await rm(path.join(root, "tmp"), { recursive: true, force: true });
  await mkdir(path.join(root, "tmp"), { recursive: true });
  await content.init();
  await mkdir(path.join(root, "snapshots"), { recursive: true });
  await snapshots.init();
  await records.init();
  return new ImageService({ root, content, snapshots, records, registry: new RegistryClient(registry) });
}
