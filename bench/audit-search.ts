// Audit search over 1M events (DESIGN target: p95 under 100 ms).
// Seeds a throwaway embedded Postgres with N events, then times the queries the
// Audit page makes. There is no peer for this one; the figure is absolute.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { queryAuditPage, type AuditPageInput } from "../server/audit/query";
import { startEmbeddedPostgres } from "../server/database/embedded";
import { migrate } from "../server/database/migrate";
import { createDb } from "../server/db";
import { percentile } from "./support";

const N = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const RUNS = 30;

export async function benchAuditSearch(): Promise<{ name: string; p50: number; p95: number }[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "berth-bench-audit-"));
  const pg = await startEmbeddedPostgres({ dataDir: dir });
  try {
    await migrate(pg.url());
    const db = createDb(pg.url());
    const t0 = performance.now();
    // Bulk seed straight into the table (the trigger only blocks UPDATE/DELETE).
    await db.$executeRawUnsafe(`
      INSERT INTO "AuditEvent" ("createdAt","actorType","actorId","actorLabel","sourceIp","userAgent","action","targetType","targetId","hostId","params","outcome","errorMessage","requestId","prevHash","hash")
      SELECT now() - (i || ' seconds')::interval, 'user', 'user' || (i % 200), 'user' || (i % 200) || '@example.test',
             '10.0.' || (i % 250) || '.' || (i % 199), 'bench', (ARRAY['auth.sign_in','users.create','containers.deploy','containers.control','images.pull','audit.export'])[1 + i % 6],
             'container', 'c' || i, 'host' || (i % 40), jsonb_build_object('image', 'registry.example.test/app-' || (i % 5000) || ':v' || (i % 7), 'n', i),
             (ARRAY['success','success','success','denied','error'])[1 + i % 5]::"AuditOutcome", CASE WHEN i % 5 = 4 THEN 'boom ' || i END,
             md5(i::text), md5((i - 1)::text) || md5((i - 1)::text), md5(i::text) || md5(i::text)
      FROM generate_series(1, ${N}) AS i`);
    await db.$executeRawUnsafe(`ANALYZE "AuditEvent"`);
    console.log(`[bench] seeded ${N} audit events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const someId = String(Math.floor(N / 2));
    const cases: [string, AuditPageInput][] = [
      ["newest page", { limit: 50 }],
      ["deep page (keyset)", { limit: 50, before: someId }],
      ["by actor", { actorId: "user17", limit: 50 }],
      ["by outcome=denied", { outcome: "denied", limit: 50 }],
      ["by host + action", { hostId: "host3", action: "containers.", limit: 50 }],
      ["last hour", { from: new Date(Date.now() - 3600_000), limit: 50 }],
      ["free text (rare)", { q: "app-4242:v3", limit: 50 }],
      ["free text (common)", { q: "containers.deploy", limit: 50 }],
      ["free text + actor", { q: "boom", actorId: "user4", limit: 50 }],
    ];
    const results = [];
    for (const [name, input] of cases) {
      await queryAuditPage(db, input); // warm
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        await queryAuditPage(db, input);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      results.push({ name, p50: percentile(times, 50), p95: percentile(times, 95) });
    }
    await db.$disconnect();
    return results;
  } finally {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
