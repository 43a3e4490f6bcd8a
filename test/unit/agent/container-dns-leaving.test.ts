import { describe, expect, it } from "vitest";
import { ContainerDns } from "../../../agent/engine/container-dns";
import { TYPE_A } from "../../../agent/network/dns-message";

// While a container leaves a network (docker network disconnect), the
// embedded DNS stops answering its names to its peers before its interface
// goes: a rolling update's old container is unnamed first, so a peer's next
// lookup of the service's alias finds only the new one.

type Rec = { id: string; name: string; config: { Hostname: string }; host: { Links: string[]; Dns: string[]; ExtraHosts: string[] }; state: { status: string } };

function record(id: string, name: string): Rec {
  return { id: id.padEnd(64, "0"), name, config: { Hostname: id }, host: { Links: [], Dns: [], ExtraHosts: [] }, state: { status: "running" } };
}

describe("the embedded DNS and a container leaving a network", () => {
  const web = record("a1", "shop-web-1");
  const oldApi = record("b2", "shop-api-1");
  const newApi = record("c3", "shop-api-1-next");
  const ips: Record<string, string> = { [web.id]: "10.9.0.2", [oldApi.id]: "10.9.0.3", [newApi.id]: "10.9.0.4" };
  const network = {
    find: (id: string) => (id === "net" ? ({ id: "net", name: "shop_front", builtin: false } as never) : undefined),
    members: () => [web.id, oldApi.id, newApi.id],
    endpointsOf: (id: string) => [{ networkId: "net", ip: ips[id]!, aliases: id === web.id ? ["web"] : ["api", "backend"] }] as never,
  };
  const all = [web, oldApi, newApi];
  const lookup = { byId: (id: string) => all.find((r) => r.id === id) as never, find: () => undefined, all: () => all as never };
  const ask = (dns: ContainerDns) => {
    const answer = dns.lookup({ networkId: "net", client: ips[web.id]!, name: "backend", type: TYPE_A });
    return answer.kind === "local" ? answer.records.map((r) => (r as { address: string }).address) : answer.kind;
  };

  it("answers every container with the alias, and only the others once one is leaving", () => {
    const leaving = new Set<string>();
    const dns = new ContainerDns(network as never, lookup, (c, n) => !leaving.has(`${c}/${n}`));
    expect(ask(dns)).toEqual(["10.9.0.3", "10.9.0.4"]);
    leaving.add(`${oldApi.id}/net`);
    expect(ask(dns)).toEqual(["10.9.0.4"]);
  });
});
