import "server-only";
import { z } from "zod";
import { agentPath, commandLine, type AgentConfig } from "../agent-config";

// One shell script gathers everything the gateway wants to know about a host
// (its facts and the agent's prerequisites) in a single round trip. It prints
// key=value lines; parseFacts reads them back.

export function factsScript(c: AgentConfig): string {
  const agent = commandLine(["node", agentPath(c), "version", "--json"]);
  return `
# Non-root users often lack the sbin directories, where ip, nft and runc live.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
have() { command -v "$1" >/dev/null 2>&1; }
echo "os=$(uname -s)"
echo "kernel=$(uname -r)"
echo "arch=$(uname -m)"
[ -r /etc/os-release ] && echo "distro=$(. /etc/os-release; echo "$PRETTY_NAME")"
echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null)"
echo "memKb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null)"
echo "diskKb=$(df -Pk / 2>/dev/null | awk 'NR==2 {print $2}')"
echo "diskFreeKb=$(df -Pk / 2>/dev/null | awk 'NR==2 {print $4}')"
echo "load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "cgroup=v2"; elif [ -d /sys/fs/cgroup/memory ]; then echo "cgroup=v1"; else echo "cgroup=none"; fi
ns=1; for n in mnt pid net uts ipc; do [ -e /proc/self/ns/$n ] || ns=0; done; echo "namespaces=$ns"
if grep -qw overlay /proc/filesystems 2>/dev/null || modprobe -n overlay >/dev/null 2>&1; then echo "overlay=1"; else echo "overlay=0"; fi
have runc && echo "runc=$(runc --version 2>/dev/null | head -n1 | awk '{print $3}')"
have conmon && echo "conmon=$(conmon --version 2>/dev/null | head -n1 | awk '{print $3}')"
have ip && echo "ip=1"
have nft && echo "nft=1"
have node && echo "node=$(node --version 2>/dev/null)"
echo "uid=$(id -u)"
if [ "$(id -u)" != 0 ] && have sudo && sudo -n true >/dev/null 2>&1; then echo "sudo=1"; fi
[ -d /run/systemd/system ] && echo "systemd=1"
if have apt-get; then echo "pkg=apt"; elif have dnf; then echo "pkg=dnf"; fi
if [ -f ${commandLine([agentPath(c)])} ] && have node; then echo "agent=$(${agent} 2>/dev/null)"; fi
[ -r ${commandLine([agentPath(c)])} ] && echo "agentSha256=$(sha256sum ${commandLine([agentPath(c)])} 2>/dev/null | cut -c1-64)"
exit 0
`;
}

export const hostFactsSchema = z.object({
  os: z.string(),
  kernel: z.string().optional(),
  arch: z.string().optional(),
  distro: z.string().optional(),
  cpus: z.number().optional(),
  memoryBytes: z.number().optional(),
  diskBytes: z.number().optional(),
  diskFreeBytes: z.number().optional(),
  load: z.number().optional(),
  cgroup: z.enum(["v1", "v2", "none"]).optional(),
  namespaces: z.boolean(),
  overlay: z.boolean(),
  runc: z.string().optional(),
  conmon: z.string().optional(),
  ip: z.boolean(),
  nft: z.boolean(),
  node: z.string().optional(),
  root: z.boolean(),
  sudo: z.boolean(),
  systemd: z.boolean(),
  packageManager: z.enum(["apt", "dnf"]).optional(),
  agentVersion: z.string().optional(),
  /** SHA-256 of the installed agent file: differs from the gateway's bundle when an upgrade is available. */
  agentSha256: z.string().optional(),
  gatheredAt: z.string(),
});
export type HostFacts = z.infer<typeof hostFactsSchema>;

function number(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function parseFacts(text: string, now = new Date()): HostFacts {
  const kv = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const kb = (k: string) => {
    const n = number(kv.get(k));
    return n === undefined ? undefined : n * 1024;
  };
  let agentVersion: string | undefined;
  try {
    agentVersion = kv.get("agent") ? (JSON.parse(kv.get("agent")!) as { Version?: string }).Version : undefined;
  } catch {
    agentVersion = undefined;
  }
  const cgroup = kv.get("cgroup");
  const pkg = kv.get("pkg");
  return {
    os: kv.get("os") || "unknown",
    kernel: kv.get("kernel") || undefined,
    arch: kv.get("arch") || undefined,
    distro: kv.get("distro") || undefined,
    cpus: number(kv.get("cpus")),
    memoryBytes: kb("memKb"),
    diskBytes: kb("diskKb"),
    diskFreeBytes: kb("diskFreeKb"),
    load: number(kv.get("load")),
    cgroup: cgroup === "v1" || cgroup === "v2" || cgroup === "none" ? cgroup : undefined,
    namespaces: kv.get("namespaces") === "1",
    overlay: kv.get("overlay") === "1",
    runc: kv.get("runc") || undefined,
    conmon: kv.get("conmon") || undefined,
    ip: kv.get("ip") === "1",
    nft: kv.get("nft") === "1",
    node: kv.get("node") || undefined,
    root: kv.get("uid") === "0",
    sudo: kv.get("sudo") === "1",
    systemd: kv.get("systemd") === "1",
    packageManager: pkg === "apt" || pkg === "dnf" ? pkg : undefined,
    agentVersion,
    agentSha256: /^[0-9a-f]{64}$/.test(kv.get("agentSha256") ?? "") ? kv.get("agentSha256") : undefined,
    gatheredAt: now.toISOString(),
  };
}
