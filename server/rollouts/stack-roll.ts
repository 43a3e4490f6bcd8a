import "server-only";
import { randomBytes } from "node:crypto";
import { CONFINEMENT_HEADER, encodeConfinement, type Confinement } from "../../lib/confinement";
import { containerNameOf, type StackModel, type StackService } from "../../lib/compose/model";
import type { AgentClient } from "../fleet/agent/client";
import { agentPolicyDenial } from "../policy/gate";
import type { EngineSecret } from "../stacks/converge";
import { projectContainers, type ProjectContainer } from "../stacks/host-state";
import { secretsTar } from "../stacks/secret-files";
import { containerLabels, serviceBody, serviceConfigHash } from "../stacks/service-body";
import { DEFAULT_GATE, logTail, passGate, type GateOptions } from "./health-gate";
import { strategyFor, type RolloutStrategy } from "./stack-order";
import type { RolloutStep } from "./types";

// Rolling a stack's services one at a time, each replica through the health
// gate. Start-first: the new container starts under a temporary name on the
// service's networks with its aliases, passes the gate, then the old one
// leaves its networks (its names stop resolving), stops and is set aside;
// the new one takes the service's name. Stop-first (a fixed host port…): the
// old one stops and is set aside, the new one starts under the name and
// passes the same gate. The set-aside containers are removed only once every
// service has passed; if one fails, every replica already rolled goes back
// to its old container (same container, same image, same data), so the
// stack stays at one consistent version.

type Step = (phase: RolloutStep["phase"], message: string, detail?: { service?: string }) => Promise<void>;

export interface RollInput {
  client: AgentClient;
  stackId: string;
  /** The version being rolled to (images pinned by digest). */
  model: StackModel;
  /** The services to replace, in dependency order. */
  services: string[];
  /** Per service, what the agent must hold its containers to. */
  confinement: Map<string, Confinement>;
  /** By Berth secret name. */
  secrets: Map<string, EngineSecret>;
  /** Services no longer in the version (a rollback to one without them): removed once every other has passed. */
  removeServices?: string[];
  /** Short and unique: the temporary and set-aside names carry it. */
  tag: string;
  step: Step;
  signal: AbortSignal;
  gate?: GateOptions;
}

/** One replica replaced: what to undo it with. */
interface Swap {
  service: string;
  name: string;
  strategy: RolloutStrategy;
  newId: string;
  old: { id: string; aside: string; networks: { network: string; aliases: string[]; ipv4?: string }[]; disconnected: boolean; running: boolean } | null;
}

export class RollFailure extends Error {
  constructor(
    readonly service: string,
    readonly reason: string,
    readonly logTail: string | null,
  ) {
    super(reason);
  }
}

export interface RollResult {
  /** start-first / stop-first / mixed (per service in `strategies`). */
  strategies: Record<string, RolloutStrategy>;
  replaced: string[];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function rolloutTag(): string {
  return randomBytes(4).toString("hex");
}

const LEFTOVER = /^(.+)-(prev|next)-[0-9a-f]{8}$/;

/**
 * What a rollout cut short (its gateway stopped mid-way) left of a project: a
 * new container never switched in is removed; an old one set aside goes back
 * under its name unless that name is taken again, when it is removed.
 * Run before a stack's next rollout or apply. Returns what it did.
 */
export async function recoverLeftovers(client: AgentClient, project: string): Promise<string[]> {
  const containers = await projectContainers(client, project);
  const names = new Set(containers.map((c) => c.name));
  const done: string[] = [];
  for (const c of containers) {
    const m = LEFTOVER.exec(c.name);
    if (!m) continue;
    const [, canonical, kind] = m as unknown as [string, string, "prev" | "next"];
    if (kind === "prev" && !names.has(canonical)) {
      // Back under its name, as it is: what runs next (the rollout, the apply) replaces or starts it.
      await client.renameContainer(c.id, canonical);
      names.add(canonical);
      done.push(`${c.name} put back as ${canonical}`);
    } else {
      await client.removeContainer(c.id, { force: true });
      done.push(`${c.name} removed`);
    }
  }
  return done;
}

export class StackRoll {
  private readonly swaps: Swap[] = [];
  private readonly strategies: Record<string, RolloutStrategy> = {};
  /** Containers of the services left over past their replica count: removed once the rollout has passed. */
  private readonly surplus: ProjectContainer[] = [];

  constructor(private readonly input: RollInput) {}

  /** How each service rolled (or was about to), so far. */
  get strategiesSoFar(): Record<string, RolloutStrategy> {
    return { ...this.strategies };
  }

  private get client() {
    return this.input.client;
  }

  async run(): Promise<RollResult> {
    for (const line of await recoverLeftovers(this.client, this.input.model.project)) await this.input.step("rollback", `Left by an earlier rollout: ${line}`);
    const existing = await projectContainers(this.client, this.input.model.project);
    const revisions = new Map([...this.input.secrets].map(([name, s]) => [name, s.revision]));
    for (const name of this.input.services) {
      const service = this.input.model.services.find((s) => s.name === name);
      if (!service) continue;
      const body = serviceBody(this.input.model, service);
      const hash = serviceConfigHash(body, service, revisions, this.input.model);
      const { strategy, why } = strategyFor(service);
      this.strategies[name] = strategy;
      await this.input.step("switch", `Rolling ${name} ${strategy}${why ? ` (${why})` : ""}`, { service: name });
      const mine = existing.filter((c) => c.service === name);
      for (let n = 1; n <= service.replicas; n++) {
        if (this.input.signal.aborted) throw new RollFailure(name, "the rollout was cancelled", null);
        const old = mine.find((c) => c.number === n) ?? null;
        await this.replace(service, body, hash, n, old, strategy);
      }
      this.surplus.push(...mine.filter((c) => c.number < 1 || c.number > service.replicas));
    }
    this.surplus.push(...existing.filter((c) => this.input.removeServices?.includes(c.service)));
    return { strategies: { ...this.strategies }, replaced: this.swaps.map((s) => s.name) };
  }

  private async create(service: StackService, body: Record<string, unknown>, hash: string, n: number, name: string): Promise<string> {
    const { model, stackId } = this.input;
    const labels = { ...((body.Labels as Record<string, string> | undefined) ?? {}), ...containerLabels({ project: model.project, stackId, service, number: n, hash }) };
    const confinement = this.input.confinement.get(service.name) ?? {};
    await this.input.step("create", `Creating ${name} from ${service.spec.image}`, { service: service.name });
    let id: string;
    try {
      id = (await this.client.createContainer({ ...body, Labels: labels }, name, { timeoutMs: 60_000, headers: { [CONFINEMENT_HEADER]: encodeConfinement(confinement) } })).Id;
    } catch (e) {
      const denial = agentPolicyDenial(e, service.spec);
      throw new RollFailure(service.name, denial ? `Service "${service.name}": ${denial.message}` : `creating ${name} failed: ${message(e)}`, null);
    }
    try {
      if (service.secrets.length) await this.client.putArchive(id, "/", secretsTar(secretFiles(model, service, this.input.secrets)));
      await this.input.step("start", `Starting ${name}`, { service: service.name });
      await this.client.startContainer(id, { timeoutMs: 60_000 });
    } catch (e) {
      const tail = await logTail(this.client, id);
      await this.client.removeContainer(id, { force: true }).catch(() => undefined);
      throw new RollFailure(service.name, `the new container of ${service.name} did not start: ${message(e)}`, tail || null);
    }
    return id;
  }

  /** The gate; on failure the new container's last lines are kept and it is removed. */
  private async gate(service: StackService, id: string, name: string): Promise<void> {
    await this.input.step("gate", `Waiting for ${name} to be healthy`, { service: service.name });
    const verdict = await passGate(this.client, id, this.input.gate ?? DEFAULT_GATE, this.input.signal).catch((e: unknown) => ({ ok: false as const, reason: `the gate could not inspect the new container: ${message(e)}` }));
    if (verdict.ok) {
      await this.input.step("gate", `${name} is ${verdict.how === "healthy" ? "healthy" : "running steadily"}`, { service: service.name });
      return;
    }
    const tail = await logTail(this.client, id);
    await this.client.removeContainer(id, { force: true }).catch(() => undefined);
    throw new RollFailure(service.name, `${service.name}: ${verdict.reason}`, tail || null);
  }

  private async networksOf(id: string): Promise<{ network: string; aliases: string[]; ipv4?: string }[]> {
    const inspect = await this.client.inspectContainer(id);
    const nets = ((inspect.NetworkSettings as { Networks?: Record<string, { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null }> } | undefined)?.Networks ?? {}) as Record<
      string,
      { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null }
    >;
    const mode = String((inspect.HostConfig as { NetworkMode?: string }).NetworkMode ?? "");
    if (mode === "host" || mode === "none" || mode.startsWith("container:")) return [];
    return Object.entries(nets)
      .filter(([n]) => n !== "bridge" && n !== "host" && n !== "none")
      .map(([network, ep]) => ({ network, aliases: (ep.Aliases ?? []).filter((a) => a !== inspect.Id.slice(0, 12)), ...(ep.IPAMConfig?.IPv4Address ? { ipv4: ep.IPAMConfig.IPv4Address } : {}) }));
  }

  private async replace(service: StackService, body: Record<string, unknown>, hash: string, n: number, old: ProjectContainer | null, strategy: RolloutStrategy): Promise<void> {
    const name = containerNameOf(this.input.model.project, service, n);
    const aside = `${name}-prev-${this.input.tag}`;
    const grace = service.extra.stopGracePeriodSeconds ?? 10;
    if (!old) {
      const id = await this.create(service, body, hash, n, name);
      await this.gate(service, id, name);
      this.swaps.push({ service: service.name, name, strategy, newId: id, old: null });
      return;
    }
    const networks = await this.networksOf(old.id);
    if (strategy === "start-first") {
      const temp = `${name}-next-${this.input.tag}`;
      const id = await this.create(service, body, hash, n, temp);
      await this.gate(service, id, temp);
      // The new one serves: the old one leaves its networks (its names stop resolving), then stops.
      await this.input.step("switch", `Taking ${old.name} off its networks`, { service: service.name });
      const swap: Swap = { service: service.name, name, strategy, newId: id, old: { id: old.id, aside, networks, disconnected: false, running: old.state === "running" } };
      this.swaps.push(swap);
      for (const net of networks) {
        await this.client.disconnectNetwork(net.network, old.id, { force: true });
        swap.old!.disconnected = true;
      }
      await this.input.step("stop", `Stopping ${old.name}`, { service: service.name });
      if (old.state === "running") await this.client.stopContainer(old.id, { timeoutSeconds: grace });
      await this.client.renameContainer(old.id, aside);
      await this.client.renameContainer(id, name);
      return;
    }
    // stop-first
    await this.input.step("stop", `Stopping ${old.name} (its replacement can't run beside it)`, { service: service.name });
    if (old.state === "running") await this.client.stopContainer(old.id, { timeoutSeconds: grace });
    await this.client.renameContainer(old.id, aside);
    let id: string;
    try {
      id = await this.create(service, body, hash, n, name);
      await this.gate(service, id, name);
    } catch (e) {
      await this.bringBack({ id: old.id, aside, networks, disconnected: false, running: old.state === "running" }, name);
      throw e;
    }
    this.swaps.push({ service: service.name, name, strategy, newId: id, old: { id: old.id, aside, networks, disconnected: false, running: old.state === "running" } });
  }

  private async bringBack(old: NonNullable<Swap["old"]>, name: string): Promise<void> {
    await this.client.renameContainer(old.id, name);
    if (old.disconnected) {
      for (const net of old.networks) {
        await this.client.connectNetwork(net.network, old.id, { Aliases: net.aliases, ...(net.ipv4 ? { IPAMConfig: { IPv4Address: net.ipv4 } } : {}) });
      }
    }
    if (old.running) await this.client.startContainer(old.id, { timeoutMs: 60_000 });
  }

  /**
   * Every replica rolled goes back to its old container, newest first. Each
   * step is tried even if an earlier one failed; what couldn't be undone is
   * returned (for the rollout's reason).
   */
  async undo(): Promise<string[]> {
    const problems: string[] = [];
    for (const swap of [...this.swaps].reverse()) {
      await this.input.step("rollback", swap.old ? `Putting the old container of ${swap.name} back` : `Removing the new ${swap.name}`, { service: swap.service }).catch(() => undefined);
      try {
        await this.client.removeContainer(swap.newId, { force: true });
        if (swap.old) await this.bringBack(swap.old, swap.name);
      } catch (e) {
        problems.push(`${swap.name}: ${message(e)}`);
      }
    }
    this.swaps.length = 0;
    return problems;
  }

  /** The rollout passed: the set-aside containers (and replicas past the count) go. */
  async commit(): Promise<void> {
    for (const swap of this.swaps) {
      if (!swap.old) continue;
      await this.client.removeContainer(swap.old.id, { force: true }).catch(() => undefined);
    }
    for (const c of this.surplus) {
      await this.input.step("stop", `Removing ${c.name}`, { service: c.service });
      if (c.state === "running") await this.client.stopContainer(c.id, { timeoutSeconds: 10 }).catch(() => undefined);
      await this.client.removeContainer(c.id, { force: true }).catch(() => undefined);
    }
  }
}

function secretFiles(model: StackModel, service: StackService, secrets: Map<string, EngineSecret>) {
  return service.secrets.map((s) => {
    const berth = model.secrets[s.source]?.berthSecret ?? s.source;
    const secret = secrets.get(berth);
    if (!secret) throw new Error(`Service "${service.name}" mounts the secret "${s.source}", whose Berth secret "${berth}" was not found.`);
    const path = s.target.startsWith("/") ? s.target : `/run/secrets/${s.target}`;
    const id = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
    return { path, content: secret.value, mode: s.mode, uid: id(s.uid), gid: id(s.gid) };
  });
}
