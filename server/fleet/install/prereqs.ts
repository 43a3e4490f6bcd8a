import "server-only";
import type { HostFacts } from "./facts";

// What the agent needs on a host, and which of it can be installed for the user.

export interface MissingPrereq {
  name: string;
  message: string;
  /** The package that provides it, when the host's package manager can install it. */
  package?: string;
}

const PACKAGES: Record<"apt" | "dnf", Record<string, string>> = {
  apt: { runc: "runc", conmon: "conmon", ip: "iproute2", nft: "nftables", node: "nodejs" },
  dnf: { runc: "runc", conmon: "conmon", ip: "iproute", nft: "nftables", node: "nodejs" },
};

export const MIN_NODE_MAJOR = 20;

function nodeMajor(version: string | undefined): number | null {
  const m = /^v?(\d+)\./.exec(version ?? "");
  return m ? Number(m[1]) : null;
}

export function missingPrereqs(f: HostFacts): MissingPrereq[] {
  if (f.os !== "Linux") return [{ name: "linux", message: `The host runs ${f.os}; the Berth agent needs Linux.` }];
  const pkgs = f.packageManager ? PACKAGES[f.packageManager] : {};
  const missing: MissingPrereq[] = [];
  const tool = (name: keyof (typeof PACKAGES)["apt"], present: boolean, what: string) => {
    if (!present) missing.push({ name, message: `${what} is not installed.`, package: pkgs[name] });
  };
  if (!f.root && !f.sudo) missing.push({ name: "root", message: "The SSH user is not root and has no passwordless sudo (sudo -n)." });
  if (!f.namespaces) missing.push({ name: "namespaces", message: "The kernel lacks mount, PID, network, UTS or IPC namespaces." });
  if (!f.overlay) missing.push({ name: "overlay", message: "The kernel has no overlay filesystem." });
  if (!f.cgroup || f.cgroup === "none") missing.push({ name: "cgroups", message: "No cgroup hierarchy is mounted at /sys/fs/cgroup." });
  tool("runc", Boolean(f.runc), "runc");
  tool("conmon", Boolean(f.conmon), "conmon");
  tool("ip", f.ip, "ip (iproute2)");
  tool("nft", f.nft, "nft (nftables)");
  const major = nodeMajor(f.node);
  if (major === null) tool("node", false, `Node.js ${MIN_NODE_MAJOR} or newer`);
  else if (major < MIN_NODE_MAJOR) missing.push({ name: "node", message: `Node.js ${f.node} is too old; the agent needs ${MIN_NODE_MAJOR} or newer.` });
  return missing;
}

/** The command that installs the packages we can install, or null if there is nothing to do. */
export function installCommand(f: HostFacts, missing: MissingPrereq[]): string | null {
  const packages = [...new Set(missing.flatMap((m) => (m.package ? [m.package] : [])))];
  if (!packages.length || !f.packageManager) return null;
  if (f.packageManager === "apt") return `DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages.join(" ")}`;
  return `dnf install -y ${packages.join(" ")}`;
}
