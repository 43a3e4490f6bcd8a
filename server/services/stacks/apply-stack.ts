import "server-only";
import type { StackModel, StackSource } from "../../../lib/compose/model";
import type { PolicyViolation } from "../../../lib/policy/check";
import type { HostRef, Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import type { AuditNote } from "../../pipeline/audit-log";
import { convergeStack, ensureNetworks, ensureVolumes, type StackProgress } from "../../stacks/converge";
import { pullAndJudgeServices } from "../../stacks/pull";
import { progressKey } from "../operations/progress";
import { registryAuthHeader } from "../registries/registries";
import { resolveSecrets } from "../secrets/secrets";
import type { FleetAccess } from "../service-deps";
import { denial, judgeByName, serviceViolation, stackJudge } from "./judge-stack";
import { loadOrRefuse, secretNamesOf } from "./load-source";
import { renderModel } from "../../../lib/compose/render";

// Applying a stack (and rolling one back, which applies an earlier version's
// files as a new version): load and validate the files, judge every service
// with the one policy gate, resolve the secrets, then — the audit intent
// written — store a pending version and converge the host (server/stacks).
// The version ends "applied" or "failed" with the error; the stack follows.

export interface ApplyStackRequest {
  db: Db;
  viewer: Viewer;
  fleet: FleetAccess;
  host: HostRef;
  name: string;
  source: StackSource;
  override: boolean;
  removeOrphans: boolean;
  progressToken?: string;
  /** A rollback: the version whose files are applied again. */
  rollbackOf?: number;
  /** The procedure's audit record, filled in as the apply goes (never a secret's value). */
  audit: AuditNote;
  /** Where progress goes instead of the console's stream (a rollout's timeline). */
  report?: (p: StackProgress) => void;
}

export interface ApplyStackResult {
  stackId: string;
  version: number;
  result: "applied" | "failed";
  error: string | null;
}

/** Only what the files were: no secret value is ever in them (secrets are Berth's, by name). */
export function storedSource(source: StackSource): StackSource {
  return {
    files: source.files.map((f) => ({ path: f.path, content: f.content })),
    ...(source.composeFiles ? { composeFiles: [...source.composeFiles] } : {}),
    ...(source.profiles ? { profiles: [...source.profiles] } : {}),
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function applyStack(r: ApplyStackRequest): Promise<ApplyStackResult> {
  const existing = await r.db.stack.findUnique({ where: { hostId_name: { hostId: r.host.id, name: r.name } } });
  const model: StackModel = loadOrRefuse(r.source, r.name);
  if (existing && existing.project !== model.project) {
    throw new AppError("CONFLICT", `The stack "${r.name}" runs as the project "${existing.project}"; its files now name "${model.project}". Take it down first to rename its project.`);
  }
  const clash = await r.db.stack.findFirst({ where: { hostId: r.host.id, project: model.project, NOT: { name: r.name } }, select: { name: true } });
  if (clash) throw new AppError("CONFLICT", `The stack "${clash.name}" on this host already runs as the project "${model.project}".`);

  const note = (extra: Record<string, unknown>) => {
    r.audit.params = {
      name: r.name,
      project: model.project,
      files: r.source.files.map((f) => f.path),
      services: model.services.map((s) => ({ name: s.name, image: s.spec.image, replicas: s.replicas })),
      secrets: secretNamesOf(model),
      override: r.override,
      removeOrphans: r.removeOrphans,
      rollbackOf: r.rollbackOf ?? null,
      ...extra,
    };
  };
  note({});

  // a. Every service through the gate before anything is done; a denial creates nothing.
  const byName = await judgeByName({ db: r.db, viewer: r.viewer, host: r.host, override: r.override, model });
  const refused = denial(byName);
  if (refused) throw refused;
  const overridden: PolicyViolation[] = byName.flatMap((v) => v.verdict.overridden.map((o) => serviceViolation(v.service, o)));

  // b. Secrets: each must exist. Their values stay in memory for the upload, nowhere else.
  const { fleet, box } = await r.fleet();
  const secrets = await resolveSecrets(r.db, box, secretNamesOf(model));

  const key = progressKey(r.viewer, r.progressToken);
  const report = (p: StackProgress) => {
    if (r.report) r.report(p);
    else if (key) fleet.reportProgress({ key, ...p });
  };

  const stack = existing
    ? await r.db.stack.update({ where: { id: existing.id }, data: { status: "applying", updatedById: r.viewer.user.id } })
    : await r.db.stack.create({ data: { hostId: r.host.id, name: r.name, project: model.project, status: "applying", updatedById: r.viewer.user.id } });
  const last = await r.db.stackVersion.findFirst({ where: { stackId: stack.id }, orderBy: { number: "desc" }, select: { number: true } });
  const number = (last?.number ?? 0) + 1;
  await r.db.stackVersion.create({
    data: {
      stackId: stack.id,
      number,
      source: storedSource(r.source) as object,
      model: model as unknown as object,
      rendered: renderModel(model),
      secretNames: secretNamesOf(model),
      createdById: r.viewer.user.id,
      result: "pending",
      override: r.override && overridden.length > 0,
      rollbackOf: r.rollbackOf ?? null,
    },
  });
  r.audit.target = { type: "stack", id: stack.id };
  note({ version: number, overridden: overridden.map((v) => ({ rule: v.rule, field: v.field })) });

  const client = fleet.client(r.host.id);
  let error: string | null = null;
  let outcome: Awaited<ReturnType<typeof convergeStack>> | null = null;
  try {
    const { judge } = await stackJudge({ db: r.db, viewer: r.viewer, host: r.host, override: r.override });
    // c. networks and volumes; d. images; e–h. containers.
    await ensureNetworks(client, model, report);
    await ensureVolumes(client, model, report);
    const verdicts = await pullAndJudgeServices({
      client,
      services: model.services,
      judge,
      registryAuth: async (s) => (s.spec.registryId ? (await registryAuthHeader(r.db, box, s.spec.registryId, s.spec.image))?.header : undefined),
      report,
    });
    outcome = await convergeStack({
      client,
      stackId: stack.id,
      model,
      confinement: new Map([...verdicts].map(([name, v]) => [name, v.confinement])),
      secrets: new Map([...secrets].map(([name, s]) => [name, { revision: s.revision, value: s.value }])),
      removeOrphans: r.removeOrphans,
      report,
    });
  } catch (e) {
    error = message(e);
  }
  await r.db.stackVersion.update({ where: { stackId_number: { stackId: stack.id, number } }, data: { result: error ? "failed" : "applied", error } });
  await r.db.stack.update({
    where: { id: stack.id },
    data: { status: error ? "failed" : "applied", currentVersion: number, lastError: error, updatedById: r.viewer.user.id },
  });
  note({
    version: number,
    overridden: overridden.map((v) => ({ rule: v.rule, field: v.field })),
    result: error ? "failed" : "applied",
    error,
    changes: outcome?.services.map((s) => ({ service: s.service, created: s.created, recreated: s.recreated, kept: s.kept, removed: s.removed })) ?? null,
    orphansRemoved: outcome?.orphansRemoved ?? [],
  });
  report(error ? { phase: "error", message: error } : { phase: "done", message: `Stack ${r.name} applied as version ${number}` });
  return { stackId: stack.id, version: number, result: error ? "failed" : "applied", error };
}
