import { dnsNames } from "../engine/container-network";
import type { ContainerRecord } from "../engine/container-store";
import type { NetworkManager } from "../network/manager";
import type { NetworkView } from "./container-views";

// A container's NetworkSettings.Networks as dockerd shows them: every network
// it is configured for (a created or stopped one too: docker-compose reads
// them to decide what to connect), with the live endpoint's address when it
// runs. On user-defined networks, Aliases carry the short id and hostname as
// dockerd adds them for API versions before 1.45, and DNSNames every name the
// container answers to there.

export function networkViewOf(record: ContainerRecord, network: Pick<NetworkManager, "find" | "endpointsOf" | "portsOf">): NetworkView {
  // A stopped container has no addresses, even while its exit is still being cleaned up.
  const running = record.state.status === "running" || record.state.status === "paused";
  const live = running ? network.endpointsOf(record.id) : [];
  const ids = [...new Set([...record.networks.map((a) => a.networkId), ...live.map((e) => e.networkId)])];
  const endpoints = ids.map((id) => {
    const n = network.find(id);
    const attachment = record.networks.find((a) => a.networkId === id);
    const ep = live.find((e) => e.networkId === id);
    const aliases = ep?.aliases ?? attachment?.aliases ?? [];
    const userDefined = Boolean(n && !n.builtin);
    return {
      networkName: n?.name ?? id,
      networkId: id,
      ip: ep?.ip ?? "",
      prefix: ep?.prefix ?? 0,
      gateway: ep?.gateway ?? "",
      mac: ep?.mac ?? "",
      aliases: userDefined ? [...new Set([...aliases, record.id.slice(0, 12), record.config.Hostname].filter(Boolean))] : aliases,
      endpointId: ep?.hostVeth ?? "",
      builtin: Boolean(n?.builtin),
      dnsNames: userDefined ? dnsNames(record, aliases) : null,
      ...(attachment?.ipv4Address ? { ipv4Address: attachment.ipv4Address } : {}),
    };
  });
  return { endpoints, ports: running ? network.portsOf(record.id) : [] };
}
