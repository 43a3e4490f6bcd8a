import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../server/database/migrate";
import { createDb, type Db } from "../../server/db";
import { createEmptyDatabase, withPg } from "../fixtures/database";
import { loadDatamodel } from "../fixtures/dmmf";

// Postgres types each Prisma scalar may be stored as.
const COMPATIBLE: Record<string, string[]> = {
  String: ["text", "character varying"],
  Boolean: ["boolean"],
  Int: ["integer"],
  BigInt: ["bigint"],
  Float: ["double precision"],
  DateTime: ["timestamp without time zone", "timestamp with time zone"],
  Json: ["jsonb", "json"],
};

describe("migrations", () => {
  let url: string;
  let db: Db;

  beforeAll(async () => {
    url = (await createEmptyDatabase("mig")).url;
  });
  afterAll(async () => db?.$disconnect());

  it("apply on an empty database, record Prisma's bookkeeping, and re-running is a no-op", async () => {
    const first = await migrate(url);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(first.alreadyApplied).toEqual([]);

    const rows = await withPg(url, async (c) =>
      (await c.query(`SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name`)).rows,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(first.applied);
    for (const r of rows) {
      expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.applied_steps_count).toBe(1);
      expect(r.rolled_back_at).toBeNull();
    }

    const second = await migrate(url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);
    const count = await withPg(url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`)).rows[0].n);
    expect(count).toBe(first.applied.length);
  });

  it("two concurrent runners apply each migration once", async () => {
    const fresh = (await createEmptyDatabase("mig2")).url;
    const [a, b] = await Promise.all([migrate(fresh), migrate(fresh)]);
    expect(a.applied.length + b.applied.length).toBe(Math.max(a.applied.length, b.applied.length));
    const n = await withPg(fresh, async (c) => (await c.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`)).rows[0].n);
    expect(n).toBe(a.applied.length + b.applied.length);
  });

  it("a failed migration is recorded and blocks later runs with a clear error", async () => {
    const fresh = (await createEmptyDatabase("mig3")).url;
    const { mkdtemp, mkdir, writeFile } = await import("node:fs/promises");
    const dir = await mkdtemp("/tmp/berth-bad-migrations-");
    await mkdir(`${dir}/20260101000000_ok`);
    await writeFile(`${dir}/20260101000000_ok/migration.sql`, `CREATE TABLE "Ok" (id int);`);
    await mkdir(`${dir}/20260102000000_bad`);
    await writeFile(`${dir}/20260102000000_bad/migration.sql`, `CREATE TABLE "Half" (id int); SELECT no_such_function();`);
    await expect(migrate(fresh, { dir })).rejects.toThrow(/20260102000000_bad failed: .*no_such_function/);
    // The bad migration's transaction left nothing behind.
    const half = await withPg(fresh, async (c) => (await c.query(`SELECT to_regclass('"Half"') AS t`)).rows[0].t);
    expect(half).toBeNull();
    await expect(migrate(fresh, { dir })).rejects.toThrow(/P3009/);
  });

  it("the migrated database matches schema.prisma: every model and field, type and nullability", async () => {
    const datamodel = loadDatamodel();
    const columns = await withPg(url, async (c) =>
      (
        await c.query(
          `SELECT table_name, column_name, data_type, udt_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
        )
      ).rows as { table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string }[],
    );
    const problems: string[] = [];
    for (const model of datamodel.models) {
      const table = model.dbName ?? model.name;
      const tableColumns = columns.filter((c) => c.table_name === table);
      if (!tableColumns.length) problems.push(`table ${table} is missing`);
      for (const field of model.fields) {
        if (field.kind === "object") continue;
        const column = tableColumns.find((c) => c.column_name === (field.dbName ?? field.name));
        if (!column) {
          problems.push(`${table}.${field.name} is missing`);
          continue;
        }
        if (field.isList) {
          if (column.data_type !== "ARRAY") problems.push(`${table}.${field.name} should be an array`);
        } else if (field.kind === "enum") {
          if (column.data_type !== "USER-DEFINED" || column.udt_name !== field.type) {
            problems.push(`${table}.${field.name} should be enum ${field.type}, is ${column.udt_name}`);
          }
        } else if (!COMPATIBLE[field.type]?.includes(column.data_type)) {
          problems.push(`${table}.${field.name}: ${field.type} stored as ${column.data_type}`);
        }
        if (field.nativeType?.[0] === "Timestamptz" && column.data_type !== "timestamp with time zone") {
          problems.push(`${table}.${field.name} should be timestamptz`);
        }
        const nullable = column.is_nullable === "YES";
        if (!field.isList && nullable === field.isRequired) {
          problems.push(`${table}.${field.name}: required=${field.isRequired} but column nullable=${nullable}`);
        }
      }
    }
    for (const e of datamodel.enums) {
      const values = await withPg(url, async (c) =>
        (await c.query(`SELECT unnest(enum_range(NULL::"${e.name}"))::text AS v`)).rows.map((r) => r.v),
      );
      expect(values, `enum ${e.name}`).toEqual(e.values.map((v) => v.name));
    }
    expect(problems).toEqual([]);
  });

  it("every model round-trips create, read, update and delete through the generated client", async () => {
    db = createDb(url);
    const stamp = Date.now();
    const user = await db.user.create({ data: { email: `rt-${stamp}@example.test`, name: "Round Trip" } });
    const role = await db.role.create({ data: { name: `rt-role-${stamp}`, permissions: ["hosts.read"] } });
    const group = await db.hostGroup.create({ data: { name: `rt-group-${stamp}` } });
    const host = await db.host.create({ data: { name: `rt-host-${stamp}`, address: "192.0.2.1", hostGroupId: group.id } });

    // One case per model; the test fails if a model has none.
    const cases: Record<string, () => Promise<void>> = {
      User: async () => {
        const read = await db.user.findUniqueOrThrow({ where: { id: user.id } });
        expect(read.email).toBe(user.email);
        expect((await db.user.update({ where: { id: user.id }, data: { disabled: true } })).disabled).toBe(true);
      },
      Account: async () => {
        const key = { provider: "test", providerAccountId: `acc-${stamp}` };
        await db.account.create({ data: { ...key, userId: user.id, type: "oauth", expires_at: 123 } });
        expect((await db.account.findUniqueOrThrow({ where: { provider_providerAccountId: key } })).expires_at).toBe(123);
        await db.account.update({ where: { provider_providerAccountId: key }, data: { scope: "read" } });
        expect((await db.account.findUniqueOrThrow({ where: { provider_providerAccountId: key } })).scope).toBe("read");
        await db.account.delete({ where: { provider_providerAccountId: key } });
        expect(await db.account.findUnique({ where: { provider_providerAccountId: key } })).toBeNull();
      },
      Session: async () => {
        const sessionToken = `s-${stamp}`;
        await db.session.create({ data: { sessionToken, userId: user.id, expires: new Date(stamp + 1000) } });
        const later = new Date(stamp + 5000);
        await db.session.update({ where: { sessionToken }, data: { expires: later } });
        expect((await db.session.findUniqueOrThrow({ where: { sessionToken } })).expires).toEqual(later);
        await db.session.delete({ where: { sessionToken } });
        expect(await db.session.findUnique({ where: { sessionToken } })).toBeNull();
      },
      VerificationToken: async () => {
        const key = { identifier: "x@example.test", token: `vt-${stamp}` };
        await db.verificationToken.create({ data: { ...key, expires: new Date(stamp) } });
        await db.verificationToken.update({ where: { identifier_token: key }, data: { expires: new Date(stamp + 1) } });
        expect((await db.verificationToken.findUniqueOrThrow({ where: { identifier_token: key } })).expires.getTime()).toBe(stamp + 1);
        await db.verificationToken.delete({ where: { identifier_token: key } });
      },
      Role: async () => {
        await db.role.update({ where: { id: role.id }, data: { permissions: ["hosts.read", "audit.read"] } });
        expect((await db.role.findUniqueOrThrow({ where: { id: role.id } })).permissions).toEqual(["hosts.read", "audit.read"]);
      },
      RoleBinding: async () => {
        const b = await db.roleBinding.create({
          data: { userId: user.id, roleId: role.id, scopeType: "hostGroup", hostGroupId: group.id, scopeKey: `hostGroup:${group.id}` },
        });
        expect((await db.roleBinding.findUniqueOrThrow({ where: { id: b.id } })).scopeType).toBe("hostGroup");
        await db.roleBinding.update({ where: { id: b.id }, data: { scopeType: "host", hostGroupId: null, hostId: host.id, scopeKey: `host:${host.id}` } });
        expect((await db.roleBinding.findUniqueOrThrow({ where: { id: b.id } })).hostId).toBe(host.id);
        await db.roleBinding.delete({ where: { id: b.id } });
      },
      HostGroup: async () => {
        await db.hostGroup.update({ where: { id: group.id }, data: { description: "edge" } });
        expect((await db.hostGroup.findUniqueOrThrow({ where: { id: group.id }, include: { hosts: true } })).hosts).toHaveLength(1);
      },
      Host: async () => {
        await db.host.update({ where: { id: host.id }, data: { port: 2222 } });
        expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).port).toBe(2222);
        await db.host.delete({ where: { id: host.id } });
        await db.hostGroup.delete({ where: { id: group.id } });
        expect(await db.hostGroup.findUnique({ where: { id: group.id } })).toBeNull();
      },
      LoginAttempt: async () => {
        const a = await db.loginAttempt.create({ data: { email: "a@example.test", ip: "127.0.0.1", success: false } });
        expect(typeof a.id).toBe("bigint");
        await db.loginAttempt.update({ where: { id: a.id }, data: { success: true } });
        expect((await db.loginAttempt.findUniqueOrThrow({ where: { id: a.id } })).success).toBe(true);
        await db.loginAttempt.delete({ where: { id: a.id } });
      },
      SetupToken: async () => {
        const t = await db.setupToken.create({ data: { tokenHash: `h-${stamp}`, expires: new Date(stamp) } });
        await db.setupToken.update({ where: { id: t.id }, data: { usedAt: new Date(stamp) } });
        expect((await db.setupToken.findUniqueOrThrow({ where: { id: t.id } })).usedAt?.getTime()).toBe(stamp);
        await db.setupToken.delete({ where: { id: t.id } });
      },
      DeployPolicy: async () => {
        const p = await db.deployPolicy.create({ data: { scopeKey: `hostGroup:${group.id}`, hostGroupId: group.id, rules: { allowPrivileged: false } } });
        await db.deployPolicy.update({ where: { id: p.id }, data: { rules: { allowPrivileged: true }, updatedById: user.id } });
        expect((await db.deployPolicy.findUniqueOrThrow({ where: { scopeKey: `hostGroup:${group.id}` } })).rules).toEqual({ allowPrivileged: true });
        await db.deployPolicy.delete({ where: { id: p.id } });
      },
      Deployment: async () => {
        const own = await db.host.create({ data: { name: `rt-deploy-host-${stamp}`, address: "192.0.2.2" } });
        const d = await db.deployment.create({ data: { hostId: own.id, name: "web", spec: { image: "busybox" } } });
        await db.deployment.update({ where: { id: d.id }, data: { status: "running", containerId: "c".repeat(64) } });
        expect(await db.deployment.findUniqueOrThrow({ where: { hostId_name: { hostId: own.id, name: "web" } } })).toMatchObject({ status: "running", spec: { image: "busybox" } });
        await db.deployment.delete({ where: { id: d.id } });
        await db.host.delete({ where: { id: own.id } });
      },
      Registry: async () => {
        const r = await db.registry.create({ data: { name: `rt-reg-${stamp}`, address: "registry.example.test", username: "u", credential: "v1.sealed" } });
        await db.registry.update({ where: { id: r.id }, data: { username: "v" } });
        expect((await db.registry.findUniqueOrThrow({ where: { id: r.id } })).username).toBe("v");
        await db.registry.delete({ where: { id: r.id } });
      },
      Stack: async () => {
        const own = await db.host.create({ data: { name: `rt-stack-host-${stamp}`, address: "192.0.2.3" } });
        const st = await db.stack.create({ data: { hostId: own.id, name: "shop", project: "shop" } });
        await db.stack.update({ where: { id: st.id }, data: { status: "applied", currentVersion: 1, updatedById: user.id } });
        expect(await db.stack.findUniqueOrThrow({ where: { hostId_name: { hostId: own.id, name: "shop" } } })).toMatchObject({ status: "applied", currentVersion: 1 });
        // Deleting the host takes its stacks (and their versions) with it.
        await db.host.delete({ where: { id: own.id } });
        expect(await db.stack.findUnique({ where: { id: st.id } })).toBeNull();
      },
      StackVersion: async () => {
        const own = await db.host.create({ data: { name: `rt-stackv-host-${stamp}`, address: "192.0.2.4" } });
        const st = await db.stack.create({ data: { hostId: own.id, name: "shop", project: "shop" } });
        const v = await db.stackVersion.create({ data: { stackId: st.id, number: 1, source: { files: [] }, model: { project: "shop" }, rendered: "project: shop\n", secretNames: ["a"] } });
        await db.stackVersion.update({ where: { id: v.id }, data: { result: "applied", rollbackOf: null, override: true } });
        expect(await db.stackVersion.findUniqueOrThrow({ where: { stackId_number: { stackId: st.id, number: 1 } } })).toMatchObject({ result: "applied", secretNames: ["a"], source: { files: [] } });
        await db.stackVersion.delete({ where: { id: v.id } });
        await db.host.delete({ where: { id: own.id } });
      },
      Secret: async () => {
        const sec = await db.secret.create({ data: { name: `rt-secret-${stamp}`, value: "v1.sealed" } });
        await db.secret.update({ where: { id: sec.id }, data: { revision: { increment: 1 }, description: "d" } });
        expect((await db.secret.findUniqueOrThrow({ where: { id: sec.id } })).revision).toBe(2);
        await db.secret.delete({ where: { id: sec.id } });
      },
      ApiToken: async () => {
        const t = await db.apiToken.create({ data: { userId: user.id, name: "rt", prefix: "berth_rtrtrt", hash: `rt-${stamp}`, hostIds: ["some-host"] } });
        await db.apiToken.update({ where: { id: t.id }, data: { revokedAt: new Date(stamp) } });
        expect((await db.apiToken.findUniqueOrThrow({ where: { id: t.id } })).revokedAt?.getTime()).toBe(stamp);
        await db.apiToken.delete({ where: { id: t.id } });
      },
      AuditEvent: async () => {
        // Append-only: create and read work; update and delete are refused by the trigger.
        const e = await db.auditEvent.create({
          data: { actorType: "system", action: "test.roundtrip", outcome: "success", params: { a: [1, "b"] }, prevHash: "0".repeat(64), hash: `rt-${stamp}` },
        });
        expect((await db.auditEvent.findUniqueOrThrow({ where: { id: e.id } })).params).toEqual({ a: [1, "b"] });
        await expect(db.auditEvent.update({ where: { id: e.id }, data: { action: "x" } })).rejects.toThrow(/append-only/);
        await expect(db.auditEvent.delete({ where: { id: e.id } })).rejects.toThrow(/append-only/);
      },
      Rollout: async () => {
        const own = await db.host.create({ data: { name: `rt-rollout-host-${stamp}`, address: "192.0.2.5" } });
        const r = await db.rollout.create({ data: { hostId: own.id, deploymentId: "d1", trigger: "webhook", actorType: "webhook", services: ["api"], digests: { api: { before: null, after: null } } } });
        await db.rollout.update({ where: { id: r.id }, data: { status: "succeeded", steps: [{ at: "t", phase: "done", message: "ok" }], finishedAt: new Date(stamp) } });
        expect(await db.rollout.findUniqueOrThrow({ where: { id: r.id } })).toMatchObject({ status: "succeeded", actorType: "webhook", services: ["api"] });
        // Deleting the host takes its rollouts with it.
        await db.host.delete({ where: { id: own.id } });
        expect(await db.rollout.findUnique({ where: { id: r.id } })).toBeNull();
      },
      ApprovalRequest: async () => {
        const own = await db.host.create({ data: { name: `rt-approval-host-${stamp}`, address: "192.0.2.6" } });
        const r = await db.rollout.create({ data: { hostId: own.id, trigger: "form", actorType: "user", status: "awaitingApproval" } });
        const a = await db.approvalRequest.create({ data: { rolloutId: r.id, hostId: own.id, expiresAt: new Date(stamp + 3_600_000) } });
        await db.approvalRequest.update({ where: { id: a.id }, data: { status: "approved", comment: "ok", decidedAt: new Date(stamp) } });
        expect((await db.approvalRequest.findUniqueOrThrow({ where: { rolloutId: r.id } })).status).toBe("approved");
        // Deleting the rollout takes its request with it.
        await db.rollout.delete({ where: { id: r.id } });
        expect(await db.approvalRequest.findUnique({ where: { id: a.id } })).toBeNull();
        await db.host.delete({ where: { id: own.id } });
      },
      ApprovalRule: async () => {
        const rule = await db.approvalRule.create({ data: { scopeKey: `hostGroup:${group.id}`, hostGroupId: group.id } });
        await db.approvalRule.update({ where: { id: rule.id }, data: { expiryHours: 24 } });
        expect((await db.approvalRule.findUniqueOrThrow({ where: { scopeKey: `hostGroup:${group.id}` } })).expiryHours).toBe(24);
        await db.approvalRule.delete({ where: { id: rule.id } });
      },
      Webhook: async () => {
        const w = await db.webhook.create({ data: { hostId: host.id, deploymentId: "d1", name: "ci", prefix: "bwh_x", hash: `rt-${stamp}`, signingKey: "sealed", createdById: user.id, sourceCidrs: ["10.0.0.0/8"] } });
        await db.webhook.update({ where: { id: w.id }, data: { revokedAt: new Date(stamp), tokenId: "t1" } });
        expect(await db.webhook.findUniqueOrThrow({ where: { hash: `rt-${stamp}` } })).toMatchObject({ sourceCidrs: ["10.0.0.0/8"], tokenId: "t1" });
        await db.webhook.delete({ where: { id: w.id } });
      },
      ImageWatch: async () => {
        const w = await db.imageWatch.create({ data: { hostId: host.id, stackId: "s1", service: "api", createdById: user.id, window: { days: [1], start: "02:00", end: "04:00", timeZone: "UTC" } } });
        await db.imageWatch.update({ where: { id: w.id }, data: { seenDigest: "sha256:abc", seenAt: new Date(stamp) } });
        expect((await db.imageWatch.findUniqueOrThrow({ where: { id: w.id } })).seenDigest).toBe("sha256:abc");
        await db.imageWatch.delete({ where: { id: w.id } });
      },
      TagDigest: async () => {
        await db.tagDigest.create({ data: { reference: `rt.example/${stamp}:v1`, digest: "sha256:abc", checkedAt: new Date(stamp) } });
        await db.tagDigest.update({ where: { reference: `rt.example/${stamp}:v1` }, data: { error: "429", retryAfter: new Date(stamp + 1000) } });
        expect((await db.tagDigest.findUniqueOrThrow({ where: { reference: `rt.example/${stamp}:v1` } })).error).toBe("429");
        await db.tagDigest.delete({ where: { reference: `rt.example/${stamp}:v1` } });
      },
      AlertRule: async () => {
        const rule = await db.alertRule.create({ data: { name: `rt-rule-${stamp}`, kind: "containerOom", params: {}, channelIds: ["c1"] } });
        await db.alertRule.update({ where: { id: rule.id }, data: { enabled: false } });
        expect((await db.alertRule.findUniqueOrThrow({ where: { name: `rt-rule-${stamp}` } })).enabled).toBe(false);
        await db.alertRule.delete({ where: { id: rule.id } });
      },
      Alert: async () => {
        const rule = await db.alertRule.create({ data: { name: `rt-alert-rule-${stamp}`, kind: "hostUnreachable" } });
        const a = await db.alert.create({ data: { ruleId: rule.id, subjectKey: `host:${host.id}`, severity: "critical", summary: "down" } });
        // One unresolved alert per rule and subject.
        await expect(db.alert.create({ data: { ruleId: rule.id, subjectKey: `host:${host.id}`, severity: "critical", summary: "again" } })).rejects.toThrow();
        await db.alert.update({ where: { id: a.id }, data: { status: "resolved", resolvedAt: new Date(stamp) } });
        await db.alert.create({ data: { ruleId: rule.id, subjectKey: `host:${host.id}`, severity: "critical", summary: "again" } });
        // Deleting the rule takes its alerts with it.
        await db.alertRule.delete({ where: { id: rule.id } });
        expect(await db.alert.count({ where: { ruleId: rule.id } })).toBe(0);
      },
      AlertNotification: async () => {
        const n = await db.alertNotification.create({ data: { channelId: "c1", kind: "test" } });
        await db.alertNotification.update({ where: { id: n.id }, data: { status: "sent", attempts: 1, sentAt: new Date(stamp) } });
        expect((await db.alertNotification.findUniqueOrThrow({ where: { id: n.id } })).status).toBe("sent");
        await db.alertNotification.delete({ where: { id: n.id } });
      },
      AlertChannel: async () => {
        const c = await db.alertChannel.create({ data: { name: `rt-channel-${stamp}`, kind: "webhook", config: { url: "https://example.test/hook" }, secret: "sealed" } });
        await db.alertChannel.update({ where: { id: c.id }, data: { lastError: "timeout" } });
        expect((await db.alertChannel.findUniqueOrThrow({ where: { name: `rt-channel-${stamp}` } })).lastError).toBe("timeout");
        await db.alertChannel.delete({ where: { id: c.id } });
      },
      Silence: async () => {
        const si = await db.silence.create({ data: { comment: "maintenance", endsAt: new Date(stamp + 3_600_000), labelSelector: { team: "web" } } });
        await db.silence.update({ where: { id: si.id }, data: { endedAt: new Date(stamp) } });
        expect((await db.silence.findUniqueOrThrow({ where: { id: si.id } })).labelSelector).toEqual({ team: "web" });
        await db.silence.delete({ where: { id: si.id } });
      },
      StatSample: async () => {
        const at = new Date(Math.floor(stamp / 60_000) * 60_000);
        const row = await db.statSample.create({ data: { hostId: host.id, containerId: "c1", at, cpuPercent: 12.5, memoryBytes: BigInt(1) << BigInt(33) } });
        await db.statSample.update({ where: { id: row.id }, data: { netRxBytes: BigInt(10) } });
        expect(await db.statSample.findUniqueOrThrow({ where: { hostId_containerId_at: { hostId: host.id, containerId: "c1", at } } })).toMatchObject({ cpuPercent: 12.5, memoryBytes: BigInt(1) << BigInt(33) });
        await db.statSample.delete({ where: { id: row.id } });
      },
    };
    const models = loadDatamodel().models.map((m) => m.name);
    expect(Object.keys(cases).sort()).toEqual([...models].sort());
    for (const name of models) await cases[name]!();

    await db.role.delete({ where: { id: role.id } });
    await db.user.delete({ where: { id: user.id } });
    expect(await db.user.findUnique({ where: { id: user.id } })).toBeNull();
  });
});
