import type { BuildCache } from "../build/cache";
import type { ContainerEngine } from "../engine/engine";
import type { ContainerIo } from "../engine/container-io";
import type { ImageService } from "../images/image-service";
import type { RegistryClientOptions } from "../images/registry-client";
import type { NetworkManager } from "../network/manager";
import type { EngineSettings } from "./args";

/** The parts of a composed agent the commands use. main.ts composes it: the command line never builds one itself. */
export interface ComposedAgent {
  engine: ContainerEngine;
  io: ContainerIo;
  images: ImageService;
  network: NetworkManager;
  buildCache: BuildCache;
}

export type OpenAgent = (settings: EngineSettings, registry?: RegistryClientOptions) => Promise<ComposedAgent>;
