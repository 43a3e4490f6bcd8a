import type { ImageService } from "../images/image-service";
import type { NetworkManager } from "../network/manager";
import type { Conmon } from "../runtime/conmon";
import type { Runc } from "../runtime/runc";
import type { OverlaySnapshotter } from "../snapshots/snapshotter";
import type { VolumeStore } from "../volumes/store";

// What the engine asks of the rest of the agent, and no more: the seams a
// test drives it through with fakes (test/unit/agent/engine-lifecycle.test.ts),
// and main.ts fills with the real parts.

/** runc (runtime/runc.ts): stateless commands on one container. */
export type EngineRuntime = Pick<Runc, "root" | "globalArgs" | "state" | "start" | "kill" | "pause" | "resume" | "delete" | "pids" | "update">;

/** conmon (runtime/conmon.ts): creates the container and holds its stdio, terminal and exit code. */
export type EngineMonitor = Pick<Conmon, "launch" | "resizeTerminal" | "openStdin">;

/** The image store: the image a container is made from, and images committed from one. */
export type EngineImages = Pick<ImageService, "resolve" | "inspect" | "setImageInUse" | "createImage">;

/** The overlay snapshotter: a container's root filesystem over its image's layers. */
export type EngineSnapshots = Pick<OverlaySnapshotter, "mount" | "unmount">;

/** Networking: addresses, published ports and endpoints of running containers. */
export type EngineNetwork = Pick<NetworkManager, "init" | "find" | "checkEndpoint" | "endpointsOf" | "members" | "attach" | "detach" | "release" | "resolvePorts" | "answersDns">;

/** Volumes: created at create, mounted at start, removed with their container when anonymous. */
export type EngineVolumes = Pick<VolumeStore, "create" | "find" | "get" | "remove" | "markPopulated">;
