import { describe, expect, it } from "vitest";
import type { HostFacts } from "../../../server/fleet/install/facts";
import { installCommand, MIN_NODE_MAJOR, missingPrereqs } from "../../../server/fleet/install/prereqs";

/** A Linux host with everything the agent needs. */
function host(over: Partial<HostFacts> = {}): HostFacts {
  return {
    os: "Linux",
    cgroup: "v2",
    namespaces: true,
    overlay: true,
    runc: "1.1.12",
    conmon: "2.1.10",
    ip: true,
    nft: true,
    node: "v20.11.1",
    root: true,
    sudo: false,
    systemd: true,
    packageManager: "apt",
    gatheredAt: "2026-01-01T00:00:00.000Z",
    ...over,
  };
}

const names = (f: HostFacts) => missingPrereqs(f).map((m) => m.name);

describe("fleet/install/prereqs", () => {
  it("finds nothing missing on a complete host", () => {
    expect(missingPrereqs(host())).toEqual([]);
    expect(missingPrereqs(host({ node: "v22.3.0" }))).toEqual([]);
    expect(missingPrereqs(host({ root: false, sudo: true }))).toEqual([]);
  });

  it("reports only Linux on another OS", () => {
    expect(missingPrereqs(host({ os: "Darwin", runc: undefined, ip: false }))).toEqual([
      { name: "linux", message: "The host runs Darwin; the Berth agent needs Linux." },
    ]);
  });

  it("reports each missing tool with its apt package", () => {
    const missing = missingPrereqs(host({ runc: undefined, conmon: undefined, ip: false, nft: false, node: undefined }));
    expect(missing).toEqual([
      { name: "runc", message: "runc is not installed.", package: "runc" },
      { name: "conmon", message: "conmon is not installed.", package: "conmon" },
      { name: "ip", message: "ip (iproute2) is not installed.", package: "iproute2" },
      { name: "nft", message: "nft (nftables) is not installed.", package: "nftables" },
      { name: "node", message: `Node.js ${MIN_NODE_MAJOR} or newer is not installed.`, package: "nodejs" },
    ]);
  });

  it("names dnf's packages on dnf hosts", () => {
    const missing = missingPrereqs(host({ packageManager: "dnf", ip: false, nft: false }));
    expect(missing.map((m) => [m.name, m.package])).toEqual([
      ["ip", "iproute"],
      ["nft", "nftables"],
    ]);
  });

  it("has no package without a package manager", () => {
    const missing = missingPrereqs(host({ packageManager: undefined, runc: undefined }));
    expect(missing).toEqual([{ name: "runc", message: "runc is not installed.", package: undefined }]);
  });

  it("calls Node.js 18 too old", () => {
    expect(missingPrereqs(host({ node: "v18.19.0" }))).toEqual([
      { name: "node", message: `Node.js v18.19.0 is too old; the agent needs ${MIN_NODE_MAJOR} or newer.` },
    ]);
  });

  it("needs root or passwordless sudo", () => {
    expect(missingPrereqs(host({ root: false, sudo: false }))).toEqual([
      { name: "root", message: "The SSH user is not root and has no passwordless sudo (sudo -n)." },
    ]);
  });

  it("reports missing kernel features", () => {
    expect(names(host({ namespaces: false, overlay: false, cgroup: "none" }))).toEqual(["namespaces", "overlay", "cgroups"]);
    expect(names(host({ cgroup: undefined }))).toEqual(["cgroups"]);
    expect(names(host({ cgroup: "v1" }))).toEqual([]);
  });

  describe("installCommand", () => {
    it("installs the missing packages with apt", () => {
      const f = host({ runc: undefined, ip: false, node: undefined });
      expect(installCommand(f, missingPrereqs(f))).toBe(
        "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc iproute2 nodejs",
      );
    });

    it("installs the missing packages with dnf", () => {
      const f = host({ packageManager: "dnf", conmon: undefined, nft: false });
      expect(installCommand(f, missingPrereqs(f))).toBe("dnf install -y conmon nftables");
    });

    it("names each package once", () => {
      const f = host();
      expect(installCommand(f, [
        { name: "a", message: "", package: "runc" },
        { name: "b", message: "", package: "runc" },
      ])).toBe("DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc");
    });

    it("is null when nothing can be installed", () => {
      expect(installCommand(host(), [])).toBeNull();
      const kernel = host({ overlay: false, root: false, node: "v18.0.0" });
      expect(installCommand(kernel, missingPrereqs(kernel))).toBeNull();
      const noPm = host({ packageManager: undefined, runc: undefined });
      expect(installCommand(noPm, missingPrereqs(noPm))).toBeNull();
    });
  });
});
