import type { NetworkRecord } from "../network/manager";
import type { VolumeRecord } from "../volumes/store";
import type { ContainerRecord } from "./container-store";
import type { EngineNetwork } from "./deps";
import type { EventBus } from "./events";

// The network and volume events dockerd logs as a container starts and
// stops, with its Actor attributes: each network the container joins
// ("connect") or leaves ("disconnect"), Actor = the network (name, type =
// its driver); each volume mounted ("mount": destination, read/write) or
// unmounted ("unmount"), Actor = the volume's name. And, from the network
// manager and the volume store, each network and volume created and removed,
// however that came about (an API call, `docker run -v new:/x`, `rm -v`).

export function networkEvents(events: Pick<EventBus, "emit">, network: Pick<EngineNetwork, "find">, record: ContainerRecord, action: "connect" | "disconnect"): void {
  for (const a of record.networks) {
    const n = network.find(a.networkId);
    if (n) events.emit("network", action, n.id, { container: record.id, name: n.name, type: n.driver });
  }
}

export function volumeEvents(events: Pick<EventBus, "emit">, record: ContainerRecord, action: "mount" | "unmount"): void {
  for (const m of record.mounts) {
    if (m.type !== "volume") continue;
    const attributes: Record<string, string> =
      action === "mount"
        ? { container: record.id, destination: m.destination, driver: "local", propagation: "", "read/write": String(!m.readOnly) }
        : { container: record.id, driver: "local" };
    events.emit("volume", action, m.source, attributes);
  }
}

/** The network manager's create and destroy, as dockerd reports them (Actor attributes: name, type). */
export function networkEventSink(events: Pick<EventBus, "emit">) {
  return (action: "create" | "destroy", n: NetworkRecord) => void events.emit("network", action, n.id, { name: n.name, type: n.driver });
}

/** The volume store's create and destroy, as dockerd reports them (Actor attributes: driver). */
export function volumeEventSink(events: Pick<EventBus, "emit">) {
  return (action: "create" | "destroy", v: VolumeRecord) => void events.emit("volume", action, v.Name, { driver: v.Driver });
}
