import { describe, expect, it } from "vitest";
import { parseNetworkCreate } from "../../../server/docker-proxy/network-create";

/** What `docker network create` sends (API 1.43), with no flags. */
const cliDefault = {
  Name: "app-net",
  CheckDuplicate: true,
  Driver: "bridge",
  Scope: "",
  EnableIPv6: false,
  IPAM: { Driver: "default", Options: {}, Config: [] },
  Internal: false,
  Attachable: false,
  Ingress: false,
  ConfigOnly: false,
  ConfigFrom: null,
  Options: {},
  Labels: {},
};

describe("POST /networks/create bodies through the proxy", () => {
  it.each([
    ["the CLI's default body", cliDefault],
    ["a minimal body", { Name: "n" }],
    ["internal, attachable, labelled, with a subnet", { Name: "n", Driver: "bridge", Internal: true, Attachable: true, Labels: { team: "a" }, IPAM: { Config: [{ Subnet: "172.30.0.0/24", Gateway: "172.30.0.1", IPRange: "172.30.0.0/25" }] } }],
  ])("accepts %s", (_, body) => {
    const r = parseNetworkCreate(body);
    expect(r.ok, JSON.stringify(r)).toBe(true);
  });

  it.each([
    ["another driver", { ...cliDefault, Driver: "macvlan" }, /only the "bridge" driver/],
    ["driver options", { ...cliDefault, Options: { "com.docker.network.bridge.name": "eth0" } }, /Options.*driver options are not allowed/],
    ["IPAM options", { ...cliDefault, IPAM: { Driver: "default", Options: { x: "y" }, Config: [] } }, /IPAM\.Options/],
    ["another IPAM driver", { ...cliDefault, IPAM: { Driver: "dhcp" } }, /"default" IPAM driver/],
    ["IPAM AuxiliaryAddresses", { ...cliDefault, IPAM: { Config: [{ Subnet: "10.9.0.0/24", AuxiliaryAddresses: { a: "10.9.0.5" } }] } }, /AuxiliaryAddresses: not allowed/],
    ["an unknown field", { ...cliDefault, Peers: [] }, /Peers: not allowed/],
    ["IPv6", { ...cliDefault, EnableIPv6: true }, /EnableIPv6/],
    ["ingress", { ...cliDefault, Ingress: true }, /Ingress/],
    ["a config-from network", { ...cliDefault, ConfigFrom: { Network: "x" } }, /ConfigFrom/],
    ["no name", { Driver: "bridge" }, /Name/],
    ["not an object", [], /body/],
  ])("refuses %s", (_, body, message) => {
    const r = parseNetworkCreate(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});
