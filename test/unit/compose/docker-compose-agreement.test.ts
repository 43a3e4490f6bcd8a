// The real docker-compose (Debian's 1.29, /usr/bin/docker-compose) as the
// reference: `config` needs no daemon; it prints the merged, interpolated
// project. For a few multi-file samples, its environment, ports and volumes
// must be what Berth's loader makes of the same files.

import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { loadStack } from "@/lib/compose/load";
import type { StackModel } from "@/lib/compose/model";

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Sample {
  files: Record<string, string>;
  composeFiles: string[];
  env?: Record<string, string>;
}

async function composeConfig(sample: Sample): Promise<{ services: Record<string, Record<string, unknown>> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "berth-compose-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(sample.files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const args = ["-p", "sample", ...sample.composeFiles.flatMap((f) => ["-f", f]), "config"];
  const { stdout } = await run("/usr/bin/docker-compose", args, { cwd: dir, env: { PATH: "/usr/bin:/bin", HOME: dir, NODE_ENV: "test", ...sample.env }, timeout: 60_000 });
  return parse(stdout) as { services: Record<string, Record<string, unknown>> };
}

function berth(sample: Sample): StackModel {
  const r = loadStack({ files: Object.entries(sample.files).map(([p, content]) => ({ path: p, content })), composeFiles: sample.composeFiles }, { stackName: "sample", env: sample.env });
  if (!r.ok) throw new Error(JSON.stringify(r.problems, null, 1));
  return r.model;
}

/** docker-compose's view of a service, in Berth's terms. */
function reference(svc: Record<string, unknown>, project: string) {
  const env = Object.fromEntries(Object.entries((svc.environment ?? {}) as Record<string, unknown>).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v).replace(/\$\$/g, "$")])); // config re-escapes $ as $$ in what it prints
  const ports = ((svc.ports ?? []) as (string | Record<string, unknown>)[]).map((entry) => {
    // 1.29 keeps "IP:HOST:CONTAINER/PROTO" as a string; the rest as mappings.
    const p = typeof entry === "string" ? shortPort(entry) : entry;
    return {
    ...(p.host_ip ? { hostIp: String(p.host_ip) } : {}),
    ...(p.published !== undefined ? { hostPort: Number(p.published) } : {}),
    containerPort: Number(p.target),
    protocol: (p.protocol as string | undefined) ?? "tcp",
    };
  });
  const volumes = ((svc.volumes ?? []) as (string | Record<string, unknown>)[]).map((v) => {
    if (typeof v === "string") {
      const [source, target, mode] = v.split(":");
      const bind = source!.startsWith("/");
      return { type: bind ? "bind" : "volume", source: bind ? source : `${project}_${source}`, target, readOnly: mode === "ro" };
    }
    return { type: v.type, source: v.type === "volume" ? `${project}_${String(v.source)}` : v.source, target: v.target, readOnly: v.read_only === true };
  });
  return { env, ports, volumes };
}

const sortByJson = <T>(list: T[]): T[] => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

function shortPort(text: string): Record<string, unknown> {
  const [spec, protocol] = text.split("/");
  const [hostIp, published, target] = spec!.split(":");
  return { host_ip: hostIp, published, target, protocol };
}

function mine(model: StackModel, name: string) {
  const s = model.services.find((x) => x.name === name)!;
  return {
    env: Object.fromEntries(s.spec.env.map((e) => [e.name, e.value])),
    ports: s.spec.ports,
    volumes: s.spec.mounts.map((m) => ({ type: m.type, source: "source" in m ? m.source : undefined, target: m.target, readOnly: "readOnly" in m ? m.readOnly : false })),
  };
}

const samples: Record<string, Sample> = {
  "a base and an override with .env, env_file and defaults": {
    composeFiles: ["compose.yaml", "compose.prod.yaml"],
    env: { TAG: "1.27", REPLICA_NAME: "from-shell" },
    files: {
      ".env": "TAG=1.25\nDB_USER=app\nexport DB_PASS='s3cr$t'\nDB_HOST=db\nURL=postgres://${DB_USER}@${DB_HOST}:5432\n",
      "app.env": "LOG_LEVEL=debug\nFROM_FILE=\"quoted # not a comment\"\nWITH_COMMENT=x # a comment\n",
      "compose.yaml": `services:
  web:
    image: nginx:\${TAG}
    env_file: app.env
    environment:
      DB_URL: \${URL}
      PASS: \${DB_PASS}
      GREETING: \${GREETING:-hello}
      REQUIRED: \${DB_USER:?need a user}
      NAME: \${REPLICA_NAME}
      ESCAPED: $$HOME
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443"
    volumes:
      - data:/usr/share/nginx/html
      - /srv/conf:/etc/nginx/conf.d:ro
  db:
    image: postgres:16
    environment:
      - POSTGRES_USER=\${DB_USER}
      - POSTGRES_DB=app
    volumes: [pg:/var/lib/postgresql/data]
volumes:
  data: {}
  pg: {}
`,
      "compose.prod.yaml": `services:
  web:
    environment:
      LOG_LEVEL: warn
      GREETING: \${GREETING-}
    ports:
      - "8080:80"
      - "9000-9001:9000-9001/udp"
    volumes:
      - other:/usr/share/nginx/html
  db:
    environment:
      POSTGRES_DB: prod
volumes:
  other: {}
`,
    },
  },
  "long syntax, extends and a third file": {
    composeFiles: ["base.yml", "mid.yml", "top.yml"],
    env: {},
    files: {
      "base.yml": `services:
  common:
    image: busybox
    environment: {A: "1", B: "2"}
  app:
    extends: common
    environment: {B: "3"}
    ports:
      - target: 80
        published: 8000
        protocol: tcp
`,
      "mid.yml": `services:
  app:
    volumes:
      - type: volume
        source: cache
        target: /cache
      - type: bind
        source: /etc/ssl
        target: /ssl
        read_only: true
volumes:
  cache:
`,
      "top.yml": `services:
  app:
    environment: [C=4, A=override]
    ports:
      - "127.0.0.1:5353:53/udp"
`,
    },
  },
};

describe("docker-compose config agrees with Berth's loader", () => {
  for (const [title, sample] of Object.entries(samples)) {
    it(title, async () => {
      const reference_ = await composeConfig(sample);
      const model = berth(sample);
      for (const name of Object.keys(reference_.services)) {
        const ref = reference(reference_.services[name]!, model.project);
        const got = mine(model, name);
        expect(got.env, `${name} environment`).toEqual(ref.env);
        // 1.29 prints ports and volumes in its own order; the set is what matters.
        expect(sortByJson(got.ports), `${name} ports`).toEqual(sortByJson(ref.ports));
        expect(sortByJson(got.volumes), `${name} volumes`).toEqual(sortByJson(ref.volumes));
      }
    });
  }
});
