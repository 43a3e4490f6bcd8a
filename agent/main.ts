// berth-agent: the Berth host agent. Composition root and command line.
//   berth-agent serve [--root DIR] [--socket PATH]
//   berth-agent pull|images|inspect|rmi|tag|load|save|push|version
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { isInputError } from "../lib/errors";
import { AgentError } from "./errors";
import { createImageService } from "./images/create";
import { shortId } from "./images/digest";
import { parsePlatform } from "./images/platform";
import type { ProgressEvent } from "./images/progress";
import { familiarName, parseReference } from "../lib/image-reference";
import type { RegistryClientOptions, RegistryCredentials } from "./images/registry-client";
import { AGENT_VERSION, API_VERSION } from "./version";
import { createAgent } from "./engine/create";
import { extractContext } from "./build/context";
import { directoryToTar } from "./build/layer-tar";
import { BuildError, buildImage } from "./build/builder";
import { listenUnix } from "./api/server";
import { credentialsForRequest } from "./api/registry-auth";
import { lockRoot } from "./state/root-lock";
import { removeCgroupParent } from "./runtime/cgroup-parent";

const USAGE = `Usage: berth-agent COMMAND [OPTIONS]

Commands:
  serve [--root DIR] [--socket PATH]     run the agent: the Docker Engine API on PATH
        [--exec-root DIR] [--cgroup-parent NAME]
        [--bridge NAME] [--bridge-subnet CIDR] [--network-pool CIDR]
                                          (defaults /var/lib/berth, /run/berth/agent.sock, /run/berth, berth,
                                           berth0, 172.29.0.0/16, 172.30.0.0/16)
  pull IMAGE [--platform os/arch]         pull an image from its registry
  images                                  list images
  inspect IMAGE                           show an image's details as JSON
  rmi [-f] IMAGE...                       remove images
  tag SOURCE TARGET                       tag an image
  save [-o FILE] IMAGE...                 write images to a tar archive (stdout without -o)
  load [-i FILE]                          load images from a docker-save or OCI-layout tar (stdin without -i)
  push IMAGE                              push a tagged image
  build [-t TAG]... [--file F] [--build-arg K=V]... [--no-cache] DIR
                                          build a Dockerfile from a local directory (no serve on this root)
  teardown [--root DIR] [--exec-root DIR] [--bridge NAME] [--cgroup-parent NAME]
                                          remove every container, the bridges, the nftables table and the
                                          cgroup parent (volumes and images stay); run with the agent stopped
  dial-stdio [--socket PATH]              relay stdin/stdout to the agent's socket (for SSH exec channels)
  version                                 print version information

Common options:
  --root DIR                 agent state directory (default /var/lib/berth)
  --insecure-registry HOST   use plain HTTP for HOST (loopback registries always do); repeatable
  --allow-local-registry HOST:PORT
                             let this registry be on a loopback, link-local or unspecified address (refused
                             otherwise, however its name resolves); repeatable
  --username USER, --password-stdin, --password PASS   registry credentials (pull, push)
  --json                     machine-readable output (progress as JSON lines)
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(code);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

function progressPrinter(json: boolean) {
  const shown = new Map<string, string>();
  return (e: ProgressEvent) => {
    if (json) {
      process.stdout.write(JSON.stringify(e) + "\n");
      return;
    }
    const key = e.id ?? "";
    if (e.progressDetail) {
      // Byte counts only on a terminal; logs get the state changes.
      if (!process.stdout.isTTY) return;
      const { current = 0, total = 0 } = e.progressDetail;
      process.stdout.write(`\r${key}: ${e.status} ${(current / 1e6).toFixed(1)}MB/${(total / 1e6).toFixed(1)}MB   `);
      return;
    }
    if (key && shown.get(key) === e.status) return;
    shown.set(key, e.status);
    process.stdout.write(`${process.stdout.isTTY ? "\r" : ""}${key ? `${key}: ` : ""}${e.status}\n`);
  };
}

function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes}B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)}kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)}MB`;
  return `${(bytes / 1e9).toFixed(2)}GB`;
}

interface ServeOptions {
  root: string;
  socket: string;
  execRoot: string;
  cgroupParent: string;
  registry: RegistryClientOptions;
  bridge: string;
  bridgeSubnet: string;
  networkPool: string;
}

async function serve(o: ServeOptions) {
  const { root, socket } = o;
  await mkdir(root, { recursive: true, mode: 0o700 });
  lockRoot(root);
  const { socket: _socket, registry, ...engine } = o;
  const agent = await createAgent({ ...engine, registry: { ...registry, credentials: credentialsForRequest } });
  await listenUnix(agent.server, socket);
  process.stdout.write(`berth-agent ${AGENT_VERSION} listening on ${socket} (root ${root})\n`);
  // A bug in one request must not take the agent (and every client) down: log it and go on.
  process.on("unhandledRejection", (e) => process.stderr.write(`berth-agent: unhandled rejection: ${e instanceof Error ? e.stack : String(e)}\n`));
  // Containers keep running: conmon holds them, and the next agent re-adopts them.
  const stop = () => {
    agent.engine.close();
    agent.server.close();
    setTimeout(() => process.exit(0), 100).unref();
    agent.server.closeAllConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/**
 * The gateway's fallback transport when an SSH server forbids stream-local
 * forwarding: bytes on stdin go to the agent's socket and its replies to
 * stdout, until either side closes.
 */
function dialStdio(socketPath: string): Promise<void> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socketPath);
    conn.once("error", (e) => fail(`cannot reach the agent at ${socketPath}: ${e.message}`));
    conn.once("connect", () => {
      process.stdin.pipe(conn);
      conn.pipe(process.stdout);
    });
    // stdin closing means the gateway hung up: let the agent finish its reply, then stop.
    process.stdin.once("end", () => conn.end());
    conn.once("close", () => {
      resolve();
      process.exit(0);
    });
  });
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
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
  const [command, ...args] = positionals;
  if (!command || values.help) {
    process.stdout.write(USAGE);
    process.exit(command || values.help ? 0 : 2);
  }
  if (command === "version") {
    process.stdout.write(values.json ? JSON.stringify({ Version: AGENT_VERSION, ApiVersion: API_VERSION }) + "\n" : `berth-agent ${AGENT_VERSION} (Docker API ${API_VERSION})\n`);
    return;
  }
  if (command === "dial-stdio") return dialStdio(path.resolve(values.socket));
  const root = path.resolve(values.root);
  // How every command reaches registries; why a connection failed goes to our log, not to the client.
  const registry: RegistryClientOptions = {
    insecureRegistries: values["insecure-registry"],
    allowLocalRegistries: values["allow-local-registry"],
    log: (line) => process.stderr.write(`berth-agent: ${line}\n`),
  };
  // Where the engine keeps its state and how it networks: the same for serve, build and teardown.
  const agentOptions = {
    root,
    execRoot: path.resolve(values["exec-root"]),
    cgroupParent: values["cgroup-parent"],
    bridge: values.bridge,
    bridgeSubnet: values["bridge-subnet"],
    networkPool: values["network-pool"],
  };
  if (command === "build") {
    // A local directory as the context; needs the engine, so no `serve` may hold this root.
    if (!args[0]) fail(`"build" needs a context directory\n\n${USAGE}`, 2);
    lockRoot(root);
    const agent = await createAgent({ ...agentOptions, registry });
    const tmpDir = path.join(root, "tmp");
    const context = await extractContext(directoryToTar(path.resolve(args[0]), { overlay: false }), tmpDir);
    const buildArgs: Record<string, string> = {};
    for (const a of values["build-arg"]) {
      const i = a.indexOf("=");
      if (i < 1) fail(`--build-arg needs NAME=VALUE, got "${a}"`, 2);
      buildArgs[a.slice(0, i)] = a.slice(i + 1);
    }
    let code = 0;
    try {
      const image = await buildImage(
        { engine: agent.engine, images: agent.images, cache: agent.buildCache, tmpDir },
        { context: context.root, dockerfile: values.file ?? "Dockerfile", tags: values.tag, buildArgs, labels: {}, noCache: values["no-cache"], output: (t) => void process.stdout.write(t) },
      );
      process.stdout.write(`Successfully built ${shortId(image.id)}\n`);
      for (const t of values.tag) {
        await agent.images.tag(image.id, t);
        process.stdout.write(`Successfully tagged ${familiarName(parseReference(t))}\n`);
      }
    } catch (e) {
      process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
      code = e instanceof BuildError && e.exitCode ? e.exitCode : 1;
    } finally {
      agent.engine.close();
      await context.dispose();
    }
    process.exit(code);
  }
  if (command === "teardown") {
    // Stopping the agent for good: every container goes (volumes and images stay), then our bridges and nftables table.
    lockRoot(root);
    const agent = await createAgent(agentOptions);
    let failed = false;
    for (const c of agent.engine.list()) {
      await agent.engine.remove(c.id, { force: true }).catch((e: unknown) => {
        failed = true;
        process.stderr.write(`Error: removing ${c.name}: ${e instanceof Error ? e.message : String(e)}\n`);
      });
    }
    agent.engine.close();
    await agent.network.teardown();
    // runc removed each container's cgroups; the parent they lived under stays in every hierarchy unless we remove it.
    const cgroups = await removeCgroupParent(agentOptions.cgroupParent);
    for (const dir of cgroups.left) process.stderr.write(`Error: cgroup ${dir} could not be removed (processes still in it?)\n`);
    if (!failed && !cgroups.left.length) process.stdout.write("berth-agent: containers removed, networking torn down, cgroups removed\n");
    process.exit(failed || cgroups.left.length ? 1 : 0);
  }
  if (command === "serve") return serve({ ...agentOptions, socket: path.resolve(values.socket), registry });

  let credentials: RegistryCredentials | undefined;
  if (values.username) {
    const password = values["password-stdin"] ? await readStdin() : values.password;
    if (!password) fail("--username needs --password or --password-stdin", 2);
    credentials = { username: values.username, password };
  }
  const images = await createImageService(root, { ...registry, credentials: () => credentials });
  const json = values.json;
  const need = (n: number, what: string) => {
    if (args.length < n) fail(`"${command}" needs ${what}\n\n${USAGE}`, 2);
  };

  switch (command) {
    case "pull": {
      need(1, "an image reference");
      const record = await images.pull(args[0]!, {
        platform: values.platform ? parsePlatform(values.platform) : undefined,
        progress: progressPrinter(json),
      });
      if (!json) process.stdout.write(`${familiarName(parseReference(args[0]!))}\n`);
      else process.stdout.write(JSON.stringify({ id: record.id }) + "\n");
      return;
    }
    case "images": {
      const list = images.list();
      if (json) return void process.stdout.write(JSON.stringify(list) + "\n");
      const rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
      for (const img of list) {
        const tags = img.repoTags.length ? img.repoTags : ["<none>:<none>"];
        for (const t of tags) {
          const fam = t === "<none>:<none>" ? t : familiarName(parseReference(t));
          const i = fam.lastIndexOf(":");
          rows.push([fam.slice(0, i), fam.slice(i + 1), shortId(img.id), img.created ?? "", formatSize(img.size)]);
        }
      }
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      for (const r of rows) process.stdout.write(r.map((v, c) => v.padEnd(widths[c]! + 3)).join("").trimEnd() + "\n");
      return;
    }
    case "inspect": {
      need(1, "an image");
      process.stdout.write(JSON.stringify(await images.inspect(args[0]!), null, 2) + "\n");
      return;
    }
    case "rmi": {
      need(1, "at least one image");
      let failed = false;
      for (const key of args) {
        try {
          for (const line of await images.remove(key, { force: values.force })) {
            process.stdout.write("Untagged" in line ? `Untagged: ${line.Untagged}\n` : `Deleted: ${line.Deleted}\n`);
          }
        } catch (e) {
          if (!(e instanceof AgentError) && !isInputError(e)) throw e;
          process.stderr.write(`Error: ${e.message}\n`);
          failed = true;
        }
      }
      if (failed) process.exit(1);
      return;
    }
    case "tag":
      need(2, "a source and a target");
      await images.tag(args[0]!, args[1]!);
      return;
    case "save": {
      need(1, "at least one image");
      if (!values.output && process.stdout.isTTY) fail("refusing to write a tar archive to a terminal; use -o FILE", 2);
      const out = values.output ? createWriteStream(values.output) : process.stdout;
      await images.save(args, out);
      return;
    }
    case "load": {
      const input = values.input ? createReadStream(values.input) : process.stdin;
      await images.load(input, (line) => process.stdout.write(line + "\n"));
      return;
    }
    case "push": {
      need(1, "an image reference");
      await images.push(args[0]!, { progress: progressPrinter(json) });
      return;
    }
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof AgentError || isInputError(e)) fail(e.message);
  if (e instanceof TypeError && /ERR_PARSE_ARGS/.test(String((e as NodeJS.ErrnoException).code))) fail(`${e.message}\n\n${USAGE}`, 2);
  // Stack traces only on request: users get the message.
  fail(e instanceof Error ? (process.env.BERTH_DEBUG ? (e.stack ?? e.message) : e.message) : String(e));
});
