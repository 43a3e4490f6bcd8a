import type { Confinement } from "../../lib/confinement";
import type { CreateRequest } from "../../lib/docker/create-request";
import type { MountSpec } from "../../lib/docker/mounts";
import type { ContainerRecord, HostSettings, NetworkAttachment } from "./container-store";
import type { MergedContainerConfig } from "./merge-config";

// A new container's record, as `docker create` leaves it: the merged image
// and request config (what `docker inspect` shows as Config), its settings,
// and the "created" state.

export interface NewContainer {
  id: string;
  name: string;
  hostname: string;
  request: CreateRequest;
  /** The image as the request named it, and what that resolved to. */
  imageKey: string;
  imageId: string;
  imageChainId: string;
  merged: MergedContainerConfig;
  host: HostSettings;
  networks: NetworkAttachment[];
  mounts: MountSpec[];
  confinement?: Confinement;
  bootId: string;
}

export function newRecord(c: NewContainer): ContainerRecord {
  const { request, merged } = c;
  return {
    id: c.id,
    name: c.name,
    networks: c.networks,
    mounts: c.mounts,
    ...(c.confinement ? { confinement: c.confinement } : {}),
    created: new Date().toISOString(),
    imageId: c.imageId,
    imageChainId: c.imageChainId,
    path: merged.path,
    args: merged.args,
    config: {
      Hostname: c.hostname,
      Domainname: request.Domainname ?? "",
      User: merged.User,
      AttachStdin: Boolean(request.AttachStdin),
      AttachStdout: Boolean(request.AttachStdout),
      AttachStderr: Boolean(request.AttachStderr),
      ExposedPorts: merged.ExposedPorts,
      Tty: Boolean(request.Tty),
      OpenStdin: Boolean(request.OpenStdin),
      StdinOnce: Boolean(request.StdinOnce),
      Env: merged.Env,
      Cmd: merged.Cmd,
      Image: c.imageKey,
      Volumes: merged.Volumes,
      WorkingDir: merged.WorkingDir,
      Entrypoint: merged.Entrypoint,
      Labels: merged.Labels,
      StopSignal: merged.StopSignal,
      StopTimeout: request.StopTimeout ?? null,
      Healthcheck: merged.Healthcheck,
    },
    host: c.host,
    state: {
      status: "created",
      pid: 0,
      exitCode: 0,
      error: "",
      oomKilled: false,
      startedAt: "0001-01-01T00:00:00Z",
      finishedAt: "0001-01-01T00:00:00Z",
      manuallyStopped: false,
      restartCount: 0,
      bootId: c.bootId,
    },
  };
}
