import path from "node:path";
import { parseArgs } from "node:util";
import type { RegistryClientOptions } from "../images/registry-client";

// The command line: one option table for every command, and what the
// commands share read from it once (the root, how registries are reached,
// where the engine keeps its state and how it networks).

/** Where the engine keeps its state and how it networks: the same for serve, build and teardown. */
export interface EngineSettings {
  root: string;
  execRoot: string;
  cgroupParent: string;
  bridge: string;
  bridgeSubnet: string;
  networkPool: string;
}

export interface CommandLine {
  command: string | undefined;
  args: string[];
  values: ReturnType<typeof parseOptions>["values"];
  socket: string;
  /** How every command reaches registries; why a connection failed goes to our log, not to the client. */
  registry: RegistryClientOptions;
  engine: EngineSettings;
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: "string", default: "/var/lib/berth" },
      socket: { type: "string", default: "/run/berth/agent.sock" },
      "exec-root": { type: "string", default: "/run/berth" },
      "cgroup-parent": { type: "string", default: "berth" },
      bridge: { type: "string", default: "berth0" },
      tag: { type: "string", short: "t", multiple: true, default: [] },
      file: { type: "string" },
      "build-arg": { type: "string", multiple: true, default: [] },
      "no-cache": { type: "boolean", default: false },
      "bridge-subnet": { type: "string", default: "172.29.0.0/16" },
      "network-pool": { type: "string", default: "172.30.0.0/16" },
      platform: { type: "string" },
      "insecure-registry": { type: "string", multiple: true, default: [] },
      "allow-local-registry": { type: "string", multiple: true, default: [] },
      username: { type: "string" },
      password: { type: "string" },
      "password-stdin": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      force: { type: "boolean", short: "f", default: false },
      output: { type: "string", short: "o" },
      input: { type: "string", short: "i" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

export function parseCommandLine(argv: string[]): CommandLine {
  const { values, positionals } = parseOptions(argv);
  const [command, ...args] = positionals;
  return {
    command,
    args,
    values,
    socket: path.resolve(values.socket),
    registry: {
      insecureRegistries: values["insecure-registry"],
      allowLocalRegistries: values["allow-local-registry"],
      log: (line) => process.stderr.write(`berth-agent: ${line}\n`),
    },
    engine: {
      root: path.resolve(values.root),
      execRoot: path.resolve(values["exec-root"]),
      cgroupParent: values["cgroup-parent"],
      bridge: values.bridge,
      bridgeSubnet: values["bridge-subnet"],
      networkPool: values["network-pool"],
    },
  };
}
