import "server-only";
import { z } from "zod";
import { shellQuote } from "./ssh/exec";

// Where the agent lives on a host and how it is started. The defaults suit a
// dedicated host; several agents on one machine (the test fleet) each get
// their own directories, socket, bridge and subnets.

const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, "must be an absolute path of letters, digits, . _ - and /")
  .refine((p) => !p.split("/").includes(".."), "must not contain ..");

// Uninstall may remove the install dir and the state root: never a system directory.
const SYSTEM_DIRS = new Set(["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/lib", "/usr/local", "/usr/local/lib", "/var", "/var/lib", "/var/run"]);
const ownDirectory = absolutePath.refine((p) => {
  const clean = "/" + p.split("/").filter((s) => s && s !== ".").join("/");
  return !SYSTEM_DIRS.has(clean) && clean.split("/").length >= 3;
}, "must be a directory of its own (at least two levels deep, not a system directory): uninstall can remove it");
const LOCAL_REGISTRY = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;
const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR such as 172.29.0.0/16");

export const agentConfigSchema = z.object({
  installDir: ownDirectory.default("/usr/local/lib/berth"),
  root: ownDirectory.default("/var/lib/berth"),
  socket: absolutePath.default("/run/berth/agent.sock"),
  execRoot: absolutePath.optional(),
  cgroupParent: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  bridge: z.string().regex(/^[A-Za-z0-9_-]{1,15}$/).optional(),
  bridgeSubnet: cidr.optional(),
  networkPool: cidr.optional(),
  insecureRegistries: z
    .array(z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host or host:port"))
    .max(20)
    .default([]),
  /**
   * Registries the agent may reach on a loopback, link-local or unspecified
   * address (a registry on the host itself); every other pull that resolves to
   * one is refused, so users can't probe the host's own services.
   */
  allowLocalRegistries: z
    .array(z.string().regex(LOCAL_REGISTRY, "must be host:port, e.g. 127.0.0.1:5000, localhost:5000 or [::1]:5000"))
    .max(20)
    .optional(),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

export function agentConfigOf(stored: unknown): AgentConfig {
  return agentConfigSchema.parse(stored ?? {});
}

export const AGENT_FILE = "berth-agent.mjs";

export function agentPath(c: AgentConfig): string {
  return `${c.installDir}/${AGENT_FILE}`;
}

/** The engine's state flags, shared by serve and teardown. */
function stateArgs(c: AgentConfig): string[] {
  const args = ["--root", c.root];
  if (c.execRoot) args.push("--exec-root", c.execRoot);
  if (c.cgroupParent) args.push("--cgroup-parent", c.cgroupParent);
  if (c.bridge) args.push("--bridge", c.bridge);
  if (c.bridgeSubnet) args.push("--bridge-subnet", c.bridgeSubnet);
  if (c.networkPool) args.push("--network-pool", c.networkPool);
  return args;
}

export function serveArgs(c: AgentConfig): string[] {
  return [
    "serve",
    ...stateArgs(c),
    "--socket",
    c.socket,
    ...c.insecureRegistries.flatMap((r) => ["--insecure-registry", r]),
    ...(c.allowLocalRegistries ?? []).flatMap((r) => ["--allow-local-registry", r]),
  ];
}

export function teardownArgs(c: AgentConfig): string[] {
  return ["teardown", ...stateArgs(c)];
}

export function commandLine(words: string[]): string {
  return words.map(shellQuote).join(" ");
}
