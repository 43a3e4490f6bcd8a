import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFINEMENT_HEADER, type Confinement, encodeConfinement } from "../../lib/confinement";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// The limits the gateway's deploy policy sends with a create, as the agent
// holds containers to them: bind sources judged where they really lead (at
// every start, race-free), images judged by where their content came from.
// Driven over the agent's socket with the header the gateway sets; the docker
// CLI runs the rest.

let env: CompatEnv;
let base: string;
let allowed: string;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });

async function createConfined(body: Record<string, unknown>, confinement: Confinement, name?: string) {
  return env.agent.request("POST", `/v1.43/containers/create${name ? `?name=${name}` : ""}`, JSON.stringify(body), { [CONFINEMENT_HEADER]: encodeConfinement(confinement) });
}

async function startContainer(id: string) {
  return env.agent.request("POST", `/v1.43/containers/${id}/start`, "");
}

const messageOf = (body: string) => (JSON.parse(body) as { message: string }).message;

beforeAll(async () => {
  env = await startCompatEnv();
  base = path.join("/srv", `berth-confine-${randomBytes(4).toString("hex")}`);
  allowed = path.join(base, "allowed");
  mkdirSync(path.join(allowed, "sub"), { recursive: true });
  writeFileSync(path.join(allowed, "sub", "inside.txt"), "inside\n");
  mkdirSync(path.join(base, "outside"), { recursive: true });
  writeFileSync(path.join(base, "outside", "secret.txt"), "host secret\n");
});
afterAll(async () => {
  await env?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe("bind mounts under an allowlist", () => {
  it("a symlink planted by one container can't lead a second one out of the allowed path", async () => {
    // Container A is allowed /allowed and plants escape → / (and a link that stays inside).
    const a = await createConfined({ Image: env.image, Cmd: ["sh", "-c", "ln -s / /data/escape && ln -s ../outside /data/up && ln -s sub /data/inner"], HostConfig: { Binds: [`${allowed}:/data`] } }, { bindPrefixes: [allowed] });
    expect(a.status).toBe(201);
    const aId = (JSON.parse(a.body) as { Id: string }).Id;
    expect((await startContainer(aId)).status).toBe(204);
    expect((await docker("wait", aId)).stdout.trim()).toBe("0");

    // Container B binds allowed/escape: the policy's path as written is inside, the real one is "/".
    const b = await createConfined({ Image: env.image, Cmd: ["ls", "/host"], HostConfig: { Binds: [`${allowed}/escape:/host`] } }, { bindPrefixes: [allowed] });
    expect(b.status).toBe(201);
    const bId = (JSON.parse(b.body) as { Id: string }).Id;
    const started = await startContainer(bId);
    expect(started.status).toBe(403);
    expect(messageOf(started.body)).toBe(`bind mount of ${allowed}/escape is not allowed: it leads to /, outside the allowed paths (${allowed})`);
    // It never ran, so it never listed the host's root.
    expect((await docker("logs", bId)).stdout).toBe("");

    // Deeper through the link, and through a relative one that climbs out.
    for (const [source, real] of [
      [`${allowed}/escape/etc`, "/etc"],
      [`${allowed}/up`, path.join(base, "outside")],
    ] as const) {
      const c = await createConfined({ Image: env.image, Cmd: ["true"], HostConfig: { Binds: [`${source}:/host:ro`] } }, { bindPrefixes: [allowed] });
      expect(c.status).toBe(201);
      const r = await startContainer((JSON.parse(c.body) as { Id: string }).Id);
      expect(r.status).toBe(403);
      expect(messageOf(r.body)).toContain(`it leads to ${real}, outside the allowed paths`);
    }

    // A link that stays inside is followed, and the container sees what it leads to.
    const d = await createConfined({ Image: env.image, Cmd: ["cat", "/in/inside.txt"], HostConfig: { Binds: [`${allowed}/inner:/in:ro`] } }, { bindPrefixes: [allowed] });
    const dId = (JSON.parse(d.body) as { Id: string }).Id;
    expect((await startContainer(dId)).status).toBe(204);
    expect((await docker("wait", dId)).stdout.trim()).toBe("0");
    expect((await docker("logs", dId)).stdout).toBe("inside\n");
    // Inspect still shows the path as asked for, and no staging mount is left on the host.
    expect((await docker("inspect", "-f", "{{(index .Mounts 0).Source}}", dId)).stdout.trim()).toBe(`${allowed}/inner`);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(path.join(env.agent.execRoot, dId));
  });

  it("checks again at every start: a directory swapped for a symlink after create is refused", async () => {
    mkdirSync(path.join(allowed, "data"), { recursive: true });
    writeFileSync(path.join(allowed, "data", "file.txt"), "ok\n");
    const c = await createConfined({ Image: env.image, Cmd: ["cat", "/d/file.txt"], HostConfig: { Binds: [`${allowed}/data:/d`] } }, { bindPrefixes: [allowed] });
    const id = (JSON.parse(c.body) as { Id: string }).Id;
    expect((await startContainer(id)).status).toBe(204);
    expect((await docker("wait", id)).stdout.trim()).toBe("0");
    expect((await docker("logs", id)).stdout).toBe("ok\n");

    rmSync(path.join(allowed, "data"), { recursive: true });
    symlinkSync(path.join(base, "outside"), path.join(allowed, "data"));
    const again = await startContainer(id);
    expect(again.status).toBe(403);
    expect(messageOf(again.body)).toContain(`it leads to ${path.join(base, "outside")}, outside the allowed paths`);
    // The refusal is what `docker start` shows, and the container stays stopped.
    const cli = await docker("start", id);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain("is not allowed: it leads to");
    expect((await docker("inspect", "-f", "{{.State.Running}}", id)).stdout.trim()).toBe("false");
  });

  it("creates a missing -v directory only inside the allowed path", async () => {
    const fresh = path.join(allowed, "new", "deeper");
    const ok = await createConfined({ Image: env.image, Cmd: ["true"], HostConfig: { Binds: [`${fresh}:/n`] } }, { bindPrefixes: [allowed] });
    expect((await startContainer((JSON.parse(ok.body) as { Id: string }).Id)).status).toBe(204);
    expect(existsSync(fresh)).toBe(true);

    // Through the planted link, the missing directory would be made on the host's root: refused, nothing made.
    const name = `berth-confine-${randomBytes(3).toString("hex")}`;
    const bad = await createConfined({ Image: env.image, Cmd: ["true"], HostConfig: { Binds: [`${allowed}/escape/${name}:/n`] } }, { bindPrefixes: [allowed] });
    const r = await startContainer((JSON.parse(bad.body) as { Id: string }).Id);
    expect(r.status).toBe(403);
    expect(existsSync(`/${name}`)).toBe(false);
  });

  it("refuses at create a bind whose path as written is outside", async () => {
    const r = await createConfined({ Image: env.image, Cmd: ["true"], HostConfig: { Binds: ["/etc:/host:ro"] } }, { bindPrefixes: [allowed] });
    expect(r.status).toBe(403);
    expect(messageOf(r.body)).toBe(`bind mount of /etc is not allowed: it is outside the allowed paths (${allowed})`);
    const m = await createConfined({ Image: env.image, Cmd: ["true"], HostConfig: { Mounts: [{ Type: "bind", Source: `${allowed}/../outside`, Target: "/o" }] } }, { bindPrefixes: [allowed] });
    expect(m.status).toBe(403);
  });

  it("refuses a malformed confinement header", async () => {
    const r = await env.agent.request("POST", "/v1.43/containers/create", JSON.stringify({ Image: env.image }), { [CONFINEMENT_HEADER]: "not base64!" });
    expect(r.status).toBe(400);
    expect(messageOf(r.body)).toContain(`invalid ${CONFINEMENT_HEADER} header`);
  });
});

describe("images under a registry allowlist", () => {
  const registryOf = () => env.image.split("/")[0]!;

  it("judges the content's registry, not the name: a rename into an allowed name is refused", async () => {
    const renamed = "docker.io/library/renamed:latest";
    expect((await docker("tag", env.image, renamed)).code).toBe(0);
    const r = await createConfined({ Image: renamed, Cmd: ["true"] }, { registries: ["docker.io"] });
    expect(r.status).toBe(403);
    const id = (await docker("image", "inspect", "-f", "{{.Id}}", env.image)).stdout.trim();
    expect(messageOf(r.body)).toBe(`image ${renamed} (${id}) is refused by the registry allowlist (docker.io): its content came from ${registryOf()}`);
    // The registry it really came from is allowed, whatever the name.
    expect((await createConfined({ Image: renamed, Cmd: ["true"] }, { registries: [registryOf()] })).status).toBe(201);
  });

  it("judges an image named by its ID by the image it resolves to", async () => {
    const id = (await docker("image", "inspect", "-f", "{{.Id}}", env.image)).stdout.trim();
    for (const key of [id, id.slice(7, 19)]) {
      const r = await createConfined({ Image: key, Cmd: ["true"] }, { registries: ["docker.io"] });
      expect(r.status).toBe(403);
      expect(messageOf(r.body)).toContain(`its content came from ${registryOf()}`);
    }
    expect((await createConfined({ Image: id.slice(7, 19), Cmd: ["true"] }, { registries: [registryOf()] })).status).toBe(201);
  });

  it("records where images came from: pulled, loaded, committed, built", async () => {
    const provenance = async (ref: string) => (JSON.parse((await env.agent.request("GET", `/v1.43/images/${ref}/json`)).body) as { BerthProvenance: unknown }).BerthProvenance;
    expect(await provenance(env.image)).toEqual({ registries: [registryOf()] });

    // A loaded archive proves nothing about where it came from, whatever its names say.
    const archive = path.join(base, "saved.tar");
    expect((await docker("save", "-o", archive, env.image)).code).toBe(0);
    expect((await docker("rmi", "-f", env.image, "docker.io/library/renamed:latest")).code).toBe(0);
    expect((await docker("load", "-i", archive)).code).toBe(0);
    expect(await provenance(env.image)).toEqual({ registries: [], made: "load" });
    const loaded = await createConfined({ Image: env.image, Cmd: ["true"] }, { registries: [registryOf()] });
    expect(loaded.status).toBe(403);
    expect(messageOf(loaded.body)).toContain("it was loaded from an archive on the host, not pulled from a registry");
    // Pulling it again from its registry vouches for the same content.
    expect((await docker("pull", env.image)).code).toBe(0);
    expect(await provenance(env.image)).toEqual({ registries: [registryOf()], made: "load" });
    expect((await createConfined({ Image: env.image, Cmd: ["true"] }, { registries: [registryOf()] })).status).toBe(201);

    // A commit carries its container's image's origin.
    const ran = await docker("run", "--name", "to-commit", env.image, "sh", "-c", "echo changed > /changed");
    expect(ran.code).toBe(0);
    expect((await docker("commit", "to-commit", "docker.io/library/committed:1")).code).toBe(0);
    expect(await provenance("docker.io/library/committed:1")).toEqual({ registries: [], made: "commit", inputs: [[registryOf()]] });
    expect((await createConfined({ Image: "committed:1", Cmd: ["true"] }, { registries: ["docker.io"] })).status).toBe(403);
    expect((await createConfined({ Image: "committed:1", Cmd: ["true"] }, { registries: [registryOf()] })).status).toBe(201);

    // A build from an allowed base is judged by its base; one from scratch has no registry origin.
    const ctx = path.join(base, "ctx");
    mkdirSync(ctx, { recursive: true });
    writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.image}\nRUN echo built > /built\n`);
    expect((await env.agent.docker(["build", "-q", "-t", "built:1", ctx], { env: { DOCKER_BUILDKIT: "0" }, timeoutMs: 120_000 })).code).toBe(0);
    expect(await provenance("built:1")).toEqual({ registries: [], made: "build", inputs: [[registryOf()]] });
    expect((await createConfined({ Image: "built:1", Cmd: ["true"] }, { registries: [registryOf()] })).status).toBe(201);
    writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\nCOPY Dockerfile /\n");
    expect((await env.agent.docker(["build", "-q", "-t", "scratch:1", ctx], { env: { DOCKER_BUILDKIT: "0" }, timeoutMs: 120_000 })).code).toBe(0);
    const scratch = await createConfined({ Image: "scratch:1", Cmd: ["/Dockerfile"] }, { registries: [registryOf()] });
    expect(scratch.status).toBe(403);
    expect(messageOf(scratch.body)).toContain("it was made on the host (build) from content that came from no registry");
  });
});
