import { describe, expect, it } from "vitest";
import { attachmentsFor, dnsNames } from "../../../agent/engine/container-network";
import { type NetworkRecord, NetworkError } from "../../../agent/network/manager";
import { parseCreateRequest } from "../../../lib/docker/create-request";

// Which networks a create joins, from NetworkMode and NetworkingConfig as the CLI and docker-compose send them.

const net = (name: string, extra: Partial<NetworkRecord> = {}): NetworkRecord => ({
  id: `${name}-id`.padEnd(64, "0"),
  name,
  driver: "bridge",
  subnet: "10.9.0.0/24",
  gateway: "10.9.0.1",
  bridge: `br-${name}`,
  internal: false,
  labels: {},
  options: {},
  created: "2026-01-01T00:00:00Z",
  builtin: false,
  ...extra,
});
const all = [net("bridge", { builtin: true }), net("back", { userSubnet: true }), net("front")];
const networks = {
  find: (key: string) => all.find((n) => n.name === key || n.id === key),
  checkEndpoint: (n: NetworkRecord, want: { aliases: string[]; ipv4Address?: string }) => {
    if (want.aliases.length && n.builtin) throw new NetworkError("INVALID", "network-scoped alias is supported only for containers in user defined networks");
  },
};
const create = (body: Record<string, unknown>) => parseCreateRequest({ Image: "x", ...body });

describe("attachmentsFor", () => {
  it("no --network: the default bridge, whether the CLI names it 'default' or not at all", () => {
    expect(attachmentsFor(create({}), networks)).toEqual([{ networkId: all[0]!.id, aliases: [] }]);
    expect(attachmentsFor(create({ HostConfig: { NetworkMode: "default" }, NetworkingConfig: { EndpointsConfig: { default: {} } } }), networks)).toEqual([{ networkId: all[0]!.id, aliases: [] }]);
    expect(attachmentsFor(create({ HostConfig: { NetworkMode: "none" } }), networks)).toEqual([]);
  });

  it("a user network with its aliases and address, then the other networks the request names", () => {
    const req = create({
      HostConfig: { NetworkMode: "back" },
      NetworkingConfig: { EndpointsConfig: { front: { Aliases: ["web"] }, back: { Aliases: ["db", "db"], IPAMConfig: { IPv4Address: "10.9.0.7" } } } },
    });
    expect(attachmentsFor(req, networks)).toEqual([
      { networkId: all[1]!.id, aliases: ["db"], ipv4Address: "10.9.0.7" },
      { networkId: all[2]!.id, aliases: ["web"] },
    ]);
  });

  it("refuses unknown networks and aliases on the default bridge", () => {
    expect(() => attachmentsFor(create({ HostConfig: { NetworkMode: "nope" } }), networks)).toThrow("network nope not found");
    expect(() => attachmentsFor(create({ HostConfig: { NetworkMode: "back" }, NetworkingConfig: { EndpointsConfig: { gone: {} } } }), networks)).toThrow("network gone not found");
    expect(() => attachmentsFor(create({ NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ["x"] } } } }), networks)).toThrow(/network-scoped alias/);
  });
});

describe("dnsNames", () => {
  it("name, aliases, short id and hostname, each once", () => {
    const id = "abcdef123456".padEnd(64, "7");
    expect(dnsNames({ id, name: "shop_db_1", config: { Hostname: "abcdef123456" } as never }, ["db", "shop_db_1"])).toEqual(["shop_db_1", "db", "abcdef123456"]);
    expect(dnsNames({ id, name: "web", config: { Hostname: "www" } as never }, [])).toEqual(["web", "abcdef123456", "www"]);
  });
});
