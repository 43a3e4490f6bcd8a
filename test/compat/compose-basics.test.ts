import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, eventually, startCompatEnv } from "../fixtures/compat-env";
import { httpGet } from "../fixtures/container-http";
import { type ComposeProject, composeProject } from "../fixtures/docker-compose";

// The Debian docker-compose 1.29 (docker-py 5) against the agent's socket: a
// three-service project on two user networks with aliases, a named volume,
// an environment variable and a published port, through up -d, ps, exec,
// logs, a second up, --scale and down -v, which leaves nothing behind.
// (Health-gated depends_on is the health checks' part of this issue.)

let env: CompatEnv;
let work: string;
let compose: ComposeProject;
let port: number;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });
const dc = (...args: string[]) => compose.run(args);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

// sh stays PID 1 and leaves on SIGTERM, so stop and down don't wait out their grace period.
const serve = (text: string) => ["sh", "-c", `mkdir -p /www; echo "${text}" > /www/index.html; trap 'exit 0' TERM; httpd -f -p 80 -h /www & wait`];

beforeAll(async () => {
  env = await startCompatEnv({ networkPoolPrefix: 22 });
  work = await mkdtemp(path.join(os.tmpdir(), "berth-compose-"));
  port = await freePort();
  const file = {
    version: "3.8",
    services: {
      db: {
        image: env.image,
        command: serve("db: $$ROLE"),
        environment: { ROLE: "primary" },
        networks: { back: { aliases: ["database"] } },
        volumes: ["data:/data"],
      },
      api: {
        image: env.image,
        command: serve("api"),
        depends_on: ["db"],
        networks: { back: { aliases: ["backend"] }, front: {} },
      },
      web: {
        image: env.image,
        command: serve("web"),
        depends_on: ["api"],
        networks: ["front"],
        ports: [`127.0.0.1:${port}:80`],
      },
    },
    networks: { back: {}, front: {} },
    volumes: { data: {} },
  };
  // JSON is YAML: docker-compose reads it as its file.
  writeFileSync(path.join(work, "docker-compose.yml"), JSON.stringify(file, null, 2));
  compose = composeProject({ dir: work, name: "shop", dockerHost: `unix://${env.agent.socket}` });
});
afterAll(async () => {
  await compose?.run(["down", "-v"]).catch(() => undefined);
  await env?.close();
  await rm(work, { recursive: true, force: true });
});

describe("docker-compose 1.29 on the agent socket", () => {
  it("up -d creates the networks, the volume and the three services, each on its networks", async () => {
    const up = await dc("up", "-d");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain("Creating network \"shop_back\"");
    expect(up.stderr).toContain("Creating volume \"shop_data\"");
    expect(up.stderr).toMatch(/Creating shop_web_1 \.\.\. done/);

    const ps = await dc("ps");
    expect(ps.code).toBe(0);
    const rows = ps.stdout.trim().split("\n").slice(2);
    expect(rows).toHaveLength(3);
    for (const name of ["shop_api_1", "shop_db_1", "shop_web_1"]) expect(rows.find((r) => r.startsWith(name))).toMatch(/\sUp\s/);
    expect(rows.find((r) => r.startsWith("shop_web_1"))).toContain(`127.0.0.1:${port}->80/tcp`);

    const networks = JSON.parse((await docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", "shop_api_1")).stdout) as Record<string, { IPAddress: string; Aliases: string[] }>;
    expect(Object.keys(networks).sort()).toEqual(["shop_back", "shop_front"]);
    expect(networks.shop_back!.Aliases).toEqual(expect.arrayContaining(["api", "backend"]));
    expect(networks.shop_front!.Aliases).toEqual(expect.arrayContaining(["api"]));
    expect(networks.shop_front!.Aliases).not.toContain("backend");
    for (const n of Object.values(networks)) expect(n.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const labels = (await docker("network", "ls", "--filter", "label=com.docker.compose.project=shop", "--format", "{{.Name}}")).stdout.trim().split("\n").sort();
    expect(labels).toEqual(["shop_back", "shop_front"]);
  });

  it("exec: names and aliases resolve on the networks two services share, and only there", async () => {
    const viaFront = await eventually(() => dc("exec", "-T", "web", ...httpGet("api")), (r) => r.stdout.trim() === "api", 50);
    expect(viaFront.stdout.trim()).toBe("api");
    expect((await dc("exec", "-T", "api", ...httpGet("database"))).stdout.trim()).toBe("db: primary");
    expect((await dc("exec", "-T", "api", ...httpGet("db"))).stdout.trim()).toBe("db: primary");
    expect((await dc("exec", "-T", "db", ...httpGet("backend"))).stdout.trim()).toBe("api");
    // web and db share no network: no name of the other resolves.
    // (docker-compose exec -T hands back the process's output and errors as one stream.)
    for (const host of ["db", "database", "shop_db_1"]) {
      const r = await dc("exec", "-T", "web", ...httpGet(host, { timeout: 1 }));
      expect(r.stdout.trim(), host).toBe(`nc: bad address '${host}'`);
    }
    // "backend" is api's alias on back only.
    expect((await dc("exec", "-T", "web", ...httpGet("backend", { timeout: 1 }))).stdout.trim()).toBe("nc: bad address 'backend'");
    expect((await dc("exec", "-T", "db", "sh", "-c", "echo $ROLE")).stdout).toBe("primary\n");
    // The published port answers on the host.
    expect(execFileSync("curl", ["-s", "--max-time", "5", `http://127.0.0.1:${port}/`], { encoding: "utf8" })).toBe("web\n");
  });

  it("logs, a second up (everything up to date), and --scale", async () => {
    expect((await dc("exec", "-T", "db", "sh", "-c", "echo kept > /data/file")).code).toBe(0);
    const logs = await dc("logs", "--no-color", "db");
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("Attaching to shop_db_1");

    const again = await dc("up", "-d");
    expect(again.code, again.stderr).toBe(0);
    for (const s of ["db", "api", "web"]) expect(again.stderr).toContain(`shop_${s}_1 is up-to-date`);

    const scaled = await dc("up", "-d", "--scale", "api=2");
    expect(scaled.code, scaled.stderr).toBe(0);
    expect(scaled.stderr).toContain("Creating shop_api_2");
    const second = JSON.parse((await docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", "shop_api_2")).stdout) as Record<string, { Aliases: string[] }>;
    expect(Object.keys(second).sort()).toEqual(["shop_back", "shop_front"]);
    expect(second.shop_back!.Aliases).toEqual(expect.arrayContaining(["api", "backend"]));
    const fromDb = await dc("exec", "-T", "db", "sh", "-c", "grep -c 'backend' /etc/hosts");
    expect(fromDb.stdout.trim()).toBe("2");
    expect((await dc("exec", "-T", "db", "cat", "/data/file")).stdout).toBe("kept\n");
  });

  it("down -v removes the containers, the networks and the volume", async () => {
    const down = await dc("down", "-v");
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain("Removing network shop_back");
    expect(down.stderr).toContain("Removing volume shop_data");
    expect((await docker("ps", "-aq")).stdout.trim()).toBe("");
    expect((await docker("network", "ls", "--filter", "type=custom", "-q")).stdout.trim()).toBe("");
    expect((await docker("volume", "ls", "-q")).stdout.trim()).toBe("");
  });
});
