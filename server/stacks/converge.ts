import "server-only";
import { CONFINEMENT_HEADER, encodeConfinement, type Confinement } from "../../lib/confinement";
import { COMPOSE_LABELS, containerNameOf, type StackModel, type StackService } from "../../lib/compose/model";
import type { OperationProgress } from "../fleet/fleet";
import { AppError } from "../errors";
import { agentPolicyDenial } from "../policy/gate";
import { projectContainers, type ProjectContainer, type StackAgent } from "./host-state";
import { secretsTar } from "./secret-files";
import { containerLabels, serviceBody, serviceConfigHash } from "./service-body";
import { waitCompleted, waitHealthy } from "./wait";

// Converging a host to a stack, as `docker compose up -d` does: networks and
// volumes that are missing are created (never recreated, never removed here);
// then each service, in dependency order and in parallel where independent,
// once what it depends on holds (started, healthy, completed): containers with
// the same config hash are kept (started if stopped), others are replaced,
// replicas are added or removed by container number. Secrets are uploaded
// into each new container before it starts. Orphans go only when asked.

export type StackProgress = Omit<OperationProgress, "key">;

/** A secret as the engine needs it: its revision for the hash, its value for the file. */
export interface EngineSecret {
  revision: number;
  value: Buffer;
}

export interface ConvergeInput {
  client: StackAgent;
  stackId: string;
  model: StackModel;
  /** Per service, what the agent must hold its containers to (the policy gate's verdict). */
  confinement: Map<string, Confinement>;
  /** By Berth secret name. */
  secrets: Map<string, EngineSecret>;
  removeOrphans: boolean;
  report: (p: StackProgress) => void;
  /** Only these services (scale, a single service's restart): their dependencies are not waited for. */
  only?: string[];
}

export interface ServiceOutcome {
  service: string;
  created: number;
  recreated: number;
  kept: number;
  removed: number;
  /** The service's containers after the apply, by container number. */
  containerIds: string[];
}

export interface ConvergeResult {
  services: ServiceOutcome[];
  orphansRemoved: string[];
  /** Services that failed, with why (the apply failed if any). */
  failures: { service: string; error: string }[];
}

/** Creates the stack's missing networks; an external one must already exist. */
export async function ensureNetworks(client: StackAgent, model: StackModel, report: ConvergeInput["report"]): Promise<void> {
  const present = new Set((await client.networks()).map((n) => n.Name));
  for (const [key, n] of Object.entries(model.networks)) {
    if (present.has(n.name)) continue;
    if (n.external) throw new AppError("PRECONDITION_FAILED", `Network "${n.name}" is declared external but does not exist on the host: create it first.`);
    report({ phase: "create", message: `Creating network ${n.name}` });
    const body: Record<string, unknown> = {
      Name: n.name,
      Driver: n.driver || "bridge",
      Internal: n.internal,
      Labels: { ...n.labels, [COMPOSE_LABELS.network]: key, [COMPOSE_LABELS.project]: model.project },
    };
    if (n.subnet) body.IPAM = { Driver: "default", Config: [{ Subnet: n.subnet, ...(n.gateway ? { Gateway: n.gateway } : {}) }] };
    if (Object.keys(n.driverOpts).length) body.Options = { ...n.driverOpts };
    await client.createNetwork(body as Parameters<StackAgent["createNetwork"]>[0]);
  }
}

/** Creates the stack's missing volumes (an existing one is kept as it is: its data survives); an external one must exist. */
export async function ensureVolumes(client: StackAgent, model: StackModel, report: ConvergeInput["report"]): Promise<void> {
  const present = new Set((await client.volumes()).map((v) => v.Name));
  for (const [key, v] of Object.entries(model.volumes)) {
    if (present.has(v.name)) continue;
    if (v.external) throw new AppError("PRECONDITION_FAILED", `Volume "${v.name}" is declared external but does not exist on the host: create it first.`);
    report({ phase: "create", message: `Creating volume ${v.name}` });
    const body: Record<string, unknown> = { Name: v.name, Labels: { ...v.labels, [COMPOSE_LABELS.volume]: key, [COMPOSE_LABELS.project]: model.project } };
    if (v.driver && v.driver !== "local") body.Driver = v.driver;
    if (Object.keys(v.driverOpts).length) body.DriverOpts = { ...v.driverOpts };
    await client.createVolume(body as Parameters<StackAgent["createVolume"]>[0]);
  }
}

function secretFilesOf(model: StackModel, service: StackService, secrets: Map<string, EngineSecret>) {
  return service.secrets.map((s) => {
    const berth = model.secrets[s.source]?.berthSecret ?? s.source;
    const secret = secrets.get(berth);
    if (!secret) throw new AppError("PRECONDITION_FAILED", `Service "${service.name}" mounts the secret "${s.source}", whose Berth secret "${berth}" was not found.`);
    const path = s.target.startsWith("/") ? s.target : `/run/secrets/${s.target}`;
    const id = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
    return { path, content: secret.value, mode: s.mode, uid: id(s.uid), gid: id(s.gid) };
  });
}

class Converger {
  private readonly waits = new Map<string, Promise<void>>();
  private readonly outcomes = new Map<string, Promise<ServiceOutcome>>();
  private readonly revisions: Map<string, number>;

  constructor(
    private readonly input: ConvergeInput,
    private readonly existing: ProjectContainer[],
  ) {
    this.revisions = new Map([...input.secrets].map(([name, s]) => [name, s.revision]));
  }

  private get client() {
    return this.input.client;
  }

  private report(service: string, phase: StackProgress["phase"], message: string) {
    this.input.report({ phase, message, service });
  }

  run(service: StackService): Promise<ServiceOutcome> {
    const outcome = this.converge(service);
    outcome.catch(() => undefined);
    this.outcomes.set(service.name, outcome);
    return outcome;
  }

  /** A dependency's condition, waited for once however many services depend on it. */
  private condition(dep: StackService, condition: string): Promise<void> {
    const key = `${dep.name}\0${condition}`;
    let wait = this.waits.get(key);
    if (!wait) {
      wait = (async () => {
        const outcome = await this.outcomes.get(dep.name)!;
        if (condition === "service_healthy") {
          this.report(dep.name, "verify", `Waiting for ${dep.name} to be healthy`);
          await waitHealthy(this.client, dep, outcome.containerIds);
        } else if (condition === "service_completed_successfully") {
          this.report(dep.name, "verify", `Waiting for ${dep.name} to complete`);
          await waitCompleted(this.client, dep, outcome.containerIds);
        }
      })();
      wait.catch(() => undefined);
      this.waits.set(key, wait);
    }
    return wait;
  }

  private async dependencies(service: StackService): Promise<{ restart: boolean }> {
    let restart = false;
    if (this.input.only) return { restart };
    for (const d of service.dependsOn) {
      const dep = this.input.model.services.find((s) => s.name === d.service);
      if (!dep || !this.outcomes.has(dep.name)) {
        if (d.required) throw new AppError("PRECONDITION_FAILED", `Service "${service.name}" depends on "${d.service}", which is not part of this apply (a disabled profile?).`);
        continue;
      }
      try {
        await this.condition(dep, d.condition);
        const outcome = await this.outcomes.get(dep.name)!;
        if (d.restart && (outcome.created > 0 || outcome.recreated > 0)) restart = true;
      } catch (e) {
        if (d.required) {
          throw new AppError("PRECONDITION_FAILED", `Service "${service.name}" was not started: its dependency failed. ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    return { restart };
  }

  private async create(service: StackService, body: Record<string, unknown>, hash: string, number: number): Promise<string> {
    const { model, stackId } = this.input;
    const name = containerNameOf(model.project, service, number);
    const labels = { ...((body.Labels as Record<string, string> | undefined) ?? {}), ...containerLabels({ project: model.project, stackId, service, number, hash }) };
    const confinement = this.input.confinement.get(service.name) ?? {};
    this.report(service.name, "create", `Creating ${name}`);
    try {
      const created = await this.client.createContainer({ ...body, Labels: labels }, name, { timeoutMs: 60_000, headers: { [CONFINEMENT_HEADER]: encodeConfinement(confinement) } });
      try {
        if (service.secrets.length) await this.client.putArchive(created.Id, "/", secretsTar(secretFilesOf(model, service, this.input.secrets)));
        this.report(service.name, "start", `Starting ${name}`);
        await this.client.startContainer(created.Id, { timeoutMs: 60_000 });
      } catch (e) {
        await this.client.removeContainer(created.Id, { force: true }).catch(() => undefined);
        throw e;
      }
      return created.Id;
    } catch (e) {
      const denial = agentPolicyDenial(e, service.spec);
      if (denial) throw new AppError("FORBIDDEN", `Service "${service.name}": ${denial.message}`, { details: { policyViolations: denial.violations.map((v) => ({ ...v, field: `services.${service.name}.${v.field}` })) } });
      throw e;
    }
  }

  private async remove(c: ProjectContainer, service: StackService | undefined, why: string): Promise<void> {
    this.report(c.service, "create", `${why} ${c.name}`);
    if (c.state === "running") await this.client.stopContainer(c.id, { timeoutSeconds: service?.extra.stopGracePeriodSeconds ?? 10 }).catch(() => undefined);
    await this.client.removeContainer(c.id, { force: true });
  }

  private async converge(service: StackService): Promise<ServiceOutcome> {
    const { model } = this.input;
    const { restart } = await this.dependencies(service);
    if (service.extra.containerName && service.replicas > 1) {
      throw new AppError("BAD_REQUEST", `Service "${service.name}" sets container_name, so it can't have ${service.replicas} replicas.`);
    }
    const body = serviceBody(model, service);
    const hash = serviceConfigHash(body, service, this.revisions, model);
    const mine = this.existing.filter((c) => c.service === service.name);
    const out: ServiceOutcome = { service: service.name, created: 0, recreated: 0, kept: 0, removed: 0, containerIds: [] };
    const byNumber = new Map<number, ProjectContainer>();
    for (const c of mine) {
      if (c.number >= 1 && c.number <= service.replicas && !byNumber.has(c.number)) byNumber.set(c.number, c);
      else {
        await this.remove(c, service, "Removing");
        out.removed++;
      }
    }
    for (let n = 1; n <= service.replicas; n++) {
      const c = byNumber.get(n);
      if (c && c.hash === hash) {
        out.kept++;
        if (c.state !== "running") {
          this.report(service.name, "start", `Starting ${c.name}`);
          await this.client.startContainer(c.id, { timeoutMs: 60_000 });
        } else if (restart) {
          this.report(service.name, "start", `Restarting ${c.name} (a dependency was recreated)`);
          await this.client.restartContainer(c.id);
        }
        out.containerIds.push(c.id);
        continue;
      }
      if (c) {
        await this.remove(c, service, "Recreating");
        out.recreated++;
      } else out.created++;
      out.containerIds.push(await this.create(service, body, hash, n));
    }
    const verb = out.created + out.recreated === 0 ? "up to date" : `${out.created} created, ${out.recreated} recreated`;
    this.report(service.name, "verify", `${service.name}: ${verb}${out.kept ? `, ${out.kept} kept` : ""}`);
    return out;
  }
}

/** Containers, after networks and volumes: see the top of this file. */
export async function convergeStack(input: ConvergeInput): Promise<ConvergeResult> {
  const { client, model } = input;
  const existing = await projectContainers(client, model.project);
  const converger = new Converger(input, existing);
  const chosen = input.only ? model.services.filter((s) => input.only!.includes(s.name)) : model.services;
  // model.services is in dependency order: each service's dependencies are already running when it is started.
  const settled = await Promise.allSettled(chosen.map((s) => converger.run(s)));
  const services: ServiceOutcome[] = [];
  const failures: ConvergeResult["failures"] = [];
  let firstError: unknown = null;
  settled.forEach((r, i) => {
    if (r.status === "fulfilled") services.push(r.value);
    else {
      firstError ??= r.reason;
      failures.push({ service: chosen[i]!.name, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
    }
  });
  const orphansRemoved: string[] = [];
  if (!input.only) {
    const names = new Set(model.services.map((s) => s.name));
    const orphans = existing.filter((c) => !names.has(c.service));
    for (const c of orphans) {
      if (!input.removeOrphans) {
        input.report({ phase: "verify", message: `Found orphan container ${c.name} (service "${c.service}" is no longer in the stack); apply with "remove orphans" to remove it`, service: c.service });
        continue;
      }
      input.report({ phase: "create", message: `Removing orphan ${c.name}`, service: c.service });
      await client.removeContainer(c.id, { force: true });
      orphansRemoved.push(c.name);
    }
  }
  if (firstError && failures.length === 1) throw firstError;
  if (firstError) {
    const e = new AppError("PRECONDITION_FAILED", failures.map((f) => f.error).join(" "));
    throw e;
  }
  return { services, orphansRemoved, failures };
}

/** What `down` removes: the project's containers and networks, and with `volumes` its volumes (external ones are never the project's). */
export async function downStack(o: { client: StackAgent; project: string; volumes: boolean; report: ConvergeInput["report"] }): Promise<{ removed: number }> {
  const { client, project } = o;
  const containers = await projectContainers(client, project);
  await Promise.all(
    containers.map(async (c) => {
      o.report({ phase: "create", message: `Removing ${c.name}`, service: c.service });
      if (c.state === "running") await client.stopContainer(c.id, { timeoutSeconds: 10 }).catch(() => undefined);
      await client.removeContainer(c.id, { force: true });
    }),
  );
  const mine = (labels: Record<string, string> | null | undefined) => labels?.[COMPOSE_LABELS.project] === project;
  const networks = (await client.networks()) as unknown as { Id: string; Name: string; Labels?: Record<string, string> | null }[];
  for (const n of networks.filter((n) => mine(n.Labels))) {
    o.report({ phase: "create", message: `Removing network ${n.Name}` });
    await client.removeNetwork(n.Id);
  }
  let volumes = 0;
  if (o.volumes) {
    const list = (await client.volumes()) as unknown as { Name: string; Labels?: Record<string, string> | null }[];
    for (const v of list.filter((v) => mine(v.Labels))) {
      o.report({ phase: "create", message: `Removing volume ${v.Name}` });
      await client.removeVolume(v.Name);
      volumes++;
    }
  }
  return { removed: containers.length + volumes };
}
