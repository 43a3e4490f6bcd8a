import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import type { AgentClient } from "../agent/client";
import { agentPath, commandLine, type AgentConfig } from "../agent-config";
import { FleetError } from "../errors";
import type { HostLink } from "../link";
import { factsScript, parseFacts, type HostFacts } from "./facts";
import { installCommand, missingPrereqs, type MissingPrereq } from "./prereqs";
import { startCommand, stopCommand, supervisorScript, systemdUnit, teardownCommand, unitName } from "./scripts";

// Installing, upgrading and removing the agent over a HostLink:
// check → (packages, with consent) → upload + verify SHA-256 → start → confirm /version.

export type InstallStep = "check" | "packages" | "upload" | "start" | "confirm";

export interface InstallDeps {
  link: HostLink;
  config: AgentConfig;
  /** The agent bundle on the gateway (dist/berth-agent.mjs). */
  bundle: string;
  /** A client that reaches this host's agent through the link. */
  client: AgentClient;
  onStep?: (step: InstallStep, detail: string) => void;
}

export interface InstallResult {
  facts: HostFacts;
  version: string;
  sha256: string;
}

export class PrereqsMissingError extends FleetError {
  constructor(readonly missing: MissingPrereq[]) {
    super("INSTALL_FAILED", `The host is missing: ${missing.map((m) => m.message).join(" ")}`);
  }
}

export async function gatherFacts(link: HostLink, config: AgentConfig): Promise<HostFacts> {
  // As the SSH user: the facts must describe that user (root? sudo?), and a user without sudo can still read them.
  const result = await link.runAsUser(factsScript(config), { timeoutMs: 30_000 });
  const facts = parseFacts(result.stdout);
  if (!result.stdout.includes("os=")) throw new FleetError("NOT_LINUX", `The host did not run the facts script (exit ${result.code}): ${result.stderr.trim().slice(0, 300)}`);
  return facts;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function must(link: HostLink, command: string, what: string, timeoutMs = 60_000): Promise<string> {
  const r = await link.run(command, { timeoutMs });
  if (r.code !== 0) throw new FleetError("INSTALL_FAILED", `${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  return r.stdout;
}

/** Uploads the bundle to a temporary path, checks its SHA-256 there, then moves it into place. */
async function uploadBundle(d: InstallDeps): Promise<string> {
  const expected = await sha256File(d.bundle);
  const tmp = `/tmp/berth-agent-${randomBytes(6).toString("hex")}.mjs`;
  await d.link.upload(d.bundle, tmp);
  const target = agentPath(d.config);
  const out = await must(
    d.link,
    `set -e; sum=$(sha256sum ${tmp} | cut -d' ' -f1); if [ "$sum" != ${expected} ]; then rm -f ${tmp}; echo "checksum $sum" >&2; exit 3; fi
mkdir -p ${commandLine([d.config.installDir])}
install -m 0755 ${tmp} ${commandLine([target + ".new"])} && mv -f ${commandLine([target + ".new", target])}
rm -f ${tmp}; echo ok`,
    "Verifying and installing the agent",
  ).catch((e: unknown) => {
    if (e instanceof FleetError && /exit 3/.test(e.message)) {
      throw new FleetError("INSTALL_FAILED", `The uploaded agent's SHA-256 does not match ${expected}: the copy was corrupted; nothing was replaced.`);
    }
    throw e;
  });
  if (!out.includes("ok")) throw new FleetError("INSTALL_FAILED", "Installing the agent did not complete.");
  return expected;
}

async function writeStartFiles(d: InstallDeps, systemd: boolean): Promise<void> {
  const dir = d.config.installDir;
  if (systemd) {
    const r = await d.link.run(`cat > /etc/systemd/system/${unitName(d.config)}`, { stdin: systemdUnit(d.config) });
    if (r.code !== 0) throw new FleetError("INSTALL_FAILED", `Writing the systemd unit failed: ${r.stderr.trim()}`);
    return;
  }
  const r = await d.link.run(`cat > ${commandLine([dir + "/berth-agentd"])} && chmod 0755 ${commandLine([dir + "/berth-agentd"])}`, {
    stdin: supervisorScript(d.config),
  });
  if (r.code !== 0) throw new FleetError("INSTALL_FAILED", `Writing the supervisor failed: ${r.stderr.trim()}`);
}

/** Polls the agent's /version through the link until it answers (bounded: 80 tries, 250 ms apart). */
async function confirm(client: AgentClient, previousPid?: string, pidOf?: () => Promise<string | undefined>): Promise<string> {
  let lastError = "no answer";
  for (let i = 0; i < 80; i++) {
    try {
      if (previousPid && pidOf && (await pidOf()) === previousPid) throw new Error("the old agent is still running");
      const v = await client.version({ timeoutMs: 3_000 });
      return v.Version;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new FleetError("INSTALL_FAILED", `The agent did not answer /version after starting: ${lastError}`);
}

async function agentPid(d: InstallDeps, systemd: boolean): Promise<string | undefined> {
  const command = systemd
    ? `systemctl show -p MainPID --value ${unitName(d.config)}`
    : `cat ${commandLine([d.config.installDir + "/agent.pid"])} 2>/dev/null`;
  const r = await d.link.run(command, { timeoutMs: 10_000 });
  return r.stdout.trim() || undefined;
}

export async function checkHost(d: Pick<InstallDeps, "link" | "config">): Promise<{ facts: HostFacts; missing: MissingPrereq[] }> {
  const facts = await gatherFacts(d.link, d.config);
  return { facts, missing: missingPrereqs(facts) };
}

export async function installAgent(d: InstallDeps, options: { installPackages: boolean }): Promise<InstallResult> {
  d.onStep?.("check", "checking prerequisites");
  let { facts, missing } = await checkHost(d);
  if (missing.length && options.installPackages) {
    const command = installCommand(facts, missing);
    if (command) {
      d.onStep?.("packages", command);
      await must(d.link, command, "Installing packages", 600_000);
      ({ facts, missing } = await checkHost(d));
    }
  }
  if (missing.length) throw new PrereqsMissingError(missing);
  return upgradeAgent(d, facts);
}

/** Also the upgrade path: containers keep running because conmon, not the agent, holds them. */
export async function upgradeAgent(d: InstallDeps, known?: HostFacts): Promise<InstallResult> {
  const facts = known ?? (await gatherFacts(d.link, d.config));
  d.onStep?.("upload", agentPath(d.config));
  const sha256 = await uploadBundle(d);
  d.onStep?.("start", facts.systemd ? unitName(d.config) : "supervised start");
  await writeStartFiles(d, facts.systemd);
  const previous = await agentPid(d, facts.systemd);
  await must(d.link, startCommand(d.config, facts.systemd), "Starting the agent");
  d.onStep?.("confirm", "GET /version through the tunnel");
  const version = await confirm(d.client, previous, () => agentPid(d, facts.systemd));
  return { facts: { ...facts, agentVersion: version, agentSha256: sha256 }, version, sha256 };
}

/** Stops the agent and removes it. Containers and data stay unless removeData is set. */
export async function uninstallAgent(d: Pick<InstallDeps, "link" | "config">, options: { removeData: boolean }): Promise<void> {
  const facts = await gatherFacts(d.link, d.config);
  await must(d.link, stopCommand(d.config, facts.systemd), "Stopping the agent");
  if (options.removeData) await must(d.link, teardownCommand(d.config), "Removing containers and networks", 300_000);
  const dirs = [d.config.installDir, ...(options.removeData ? [d.config.root] : [])];
  await must(d.link, `rm -rf ${commandLine(dirs)}`, "Removing files");
}
