import { execFile, execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";
import { AGENT_BUNDLE } from "../fixtures/docker-agent";
import { startRegistry, type TestRegistry } from "../fixtures/registry";
import { skopeoInspect } from "../fixtures/skopeo";

// Dockerfile builds through the stock CLI's legacy builder (DOCKER_BUILDKIT=0),
// docker commit, and push with credentials.

let env: CompatEnv;
let work: string;
let authRegistry: TestRegistry;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 120_000, env: { DOCKER_BUILDKIT: "0" } });
const steps = (out: string) => out.split("\n").filter((l) => /^Step \d+\/\d+ : /.test(l));

const DOCKERFILE = `# escape=\\
ARG BASE
FROM \${BASE} AS builder
ARG GREETING=hello
ENV APP_HOME=/app
WORKDIR $APP_HOME
RUN echo "$GREETING from the build" > greeting.txt \\
 && id -u > built-by
COPY data/ ./data/
COPY . /ctx/

FROM \${BASE}
COPY --from=builder /app /opt/app
COPY --from=builder /ctx /opt/ctx
COPY --chown=nobody:nogroup notes.txt /opt/app/notes.txt
USER nobody
WORKDIR /opt/app
EXPOSE 8080
CMD ["sh", "-c", "cat greeting.txt; id -u; pwd; ls data; ls /opt/ctx; stat -c '%u:%g' notes.txt"]
`;

async function makeContext(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(work, "ctx-"));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

beforeAll(async () => {
  // First: the agent may reach a loopback registry only if it is allowed when the agent starts.
  authRegistry = await startRegistry({ auth: "htpasswd" });
  env = await startCompatEnv({ allowLocalRegistries: authRegistry.localEndpoints });
  work = await mkdtemp(path.join(os.tmpdir(), "berth-build-"));
});
afterAll(async () => {
  await env?.close();
  await authRegistry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("docker build (legacy builder)", () => {
  let ctx: string;
  let firstId: string;

  it("builds a multi-stage Dockerfile and the image runs as written", async () => {
    ctx = await makeContext({
      Dockerfile: DOCKERFILE,
      "data/one.txt": "one\n",
      "data/two.txt": "two\n",
      "notes.txt": "notes\n",
      "secret.key": "do not ship\n",
      "build.log": "noise\n",
      ".dockerignore": "secret.key\n*.log\n",
    });
    const r = await docker("build", "--build-arg", `BASE=${env.image}`, "-t", "local/app:v1", ctx);
    expect(r.code).toBe(0);
    expect(steps(r.stdout)).toHaveLength(16);
    expect(r.stdout).toMatch(/Successfully built [a-f0-9]{12}/);
    expect(r.stdout).toContain("Successfully tagged local/app:v1");
    firstId = (await docker("inspect", "-f", "{{.Id}}", "local/app:v1")).stdout.trim();

    const run = await docker("run", "--rm", "local/app:v1");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe("hello from the build");
    expect(lines[1]).toBe("65534"); // USER nobody
    expect(lines[2]).toBe("/opt/app"); // WORKDIR
    expect(lines).toContain("one.txt");
    expect(lines).toContain("two.txt");
    // .dockerignore kept the key and the log out of the context.
    expect(lines).toContain("notes.txt");
    expect(lines).not.toContain("secret.key");
    expect(lines).not.toContain("build.log");
    expect(lines.at(-1)).toBe("65534:65534"); // --chown
    const inspect = await docker("inspect", "-f", "{{.Config.User}} {{.Config.WorkingDir}} {{json .Config.ExposedPorts}}", "local/app:v1");
    expect(inspect.stdout.trim()).toBe('nobody /opt/app {"8080/tcp":{}}');
  });

  it("a rebuild is fully cached; touching one copied file rebuilds from that step on", async () => {
    const snapshotsBefore = (await readdir(path.join(env.agent.root, "snapshots"))).length;
    const again = await docker("build", "--build-arg", `BASE=${env.image}`, "-t", "local/app:v1", ctx);
    expect(again.code).toBe(0);
    const out = again.stdout;
    // Every step after a FROM says it used the cache.
    const blocks = out.split(/^Step /m).slice(1);
    for (const b of blocks) if (!/^\d+\/\d+ : (FROM|ARG BASE)/.test(b)) expect(b).toContain("Using cache");
    expect((await docker("inspect", "-f", "{{.Id}}", "local/app:v1")).stdout.trim()).toBe(firstId);
    expect((await readdir(path.join(env.agent.root, "snapshots"))).length).toBe(snapshotsBefore);

    await writeFile(path.join(ctx, "data", "two.txt"), "two, changed\n");
    const partial = await docker("build", "--build-arg", `BASE=${env.image}`, "-t", "local/app:v2", ctx);
    expect(partial.code).toBe(0);
    const parts = partial.stdout.split(/^Step /m).slice(1);
    const cachedStep = (title: string) => parts.find((p) => p.includes(title))!.includes("Using cache");
    expect(cachedStep("RUN echo")).toBe(true);
    expect(cachedStep("COPY data/ ./data/")).toBe(false);
    expect(cachedStep("COPY --from=builder /app /opt/app")).toBe(false);
    expect((await docker("run", "--rm", "--entrypoint", "cat", "local/app:v2", "/opt/app/data/two.txt")).stdout).toBe("two, changed\n");
    expect((await docker("build", "--no-cache", "--build-arg", `BASE=${env.image}`, "-t", "local/app:v3", ctx)).stdout).not.toContain("Using cache");
  });

  it("COPY destinations follow the image: into WORKDIR with '.', into existing directories, parents keep their metadata", async () => {
    const ctx2 = await makeContext({
      Dockerfile: `FROM ${env.image}\nWORKDIR /app\nCOPY notes.txt .\nCOPY notes.txt /tmp\nCOPY notes.txt /srv/sub/deep.txt\nCMD ["sh", "-c", "cat /app/notes.txt; stat -c '%a %n' /tmp /tmp/notes.txt /srv /srv/sub"]\n`,
      "notes.txt": "notes\n",
    });
    const r = await docker("build", "-t", "local/dests:v1", ctx2);
    expect(r.code).toBe(0);
    const run = await docker("run", "--rm", "local/dests:v1");
    expect(run.stdout.split("\n")).toEqual(["notes", "1777 /tmp", "644 /tmp/notes.txt", "755 /srv", "755 /srv/sub", ""]);
  });

  it("bad input: a syntax error, COPY ../x, a symlink out of the context, a failing RUN", async () => {
    const syntax = await makeContext({ Dockerfile: `FROM ${env.image}\nRUN true\nFORM nothing\n` });
    const s = await docker("build", "-t", "local/bad:syntax", syntax);
    expect(s.code).not.toBe(0);
    expect(s.stderr + s.stdout).toMatch(/line 3: unknown instruction: FORM/i);

    const escape = await makeContext({ Dockerfile: `FROM ${env.image}\nCOPY ../secret /x\n` });
    await writeFile(path.join(work, "secret"), "outside\n");
    const e = await docker("build", "-t", "local/bad:escape", escape);
    expect(e.code).not.toBe(0);
    expect(e.stderr + e.stdout).toMatch(/outside the build context|not found in build context/);

    const linked = await makeContext({ Dockerfile: `FROM ${env.image}\nCOPY link /x\n` });
    await symlink("/etc/passwd", path.join(linked, "link"));
    const l = await docker("build", "-t", "local/bad:link", linked);
    expect(l.code).not.toBe(0);
    expect(l.stderr + l.stdout).toMatch(/outside the build context|not found in build context/);

    const failing = await makeContext({ Dockerfile: `FROM ${env.image}\nRUN echo before\nRUN echo failing; exit 3\nRUN echo never\n` });
    const f = await docker("build", "-t", "local/bad:run", failing);
    expect(f.code).toBe(3);
    expect(f.stdout).toContain("failing");
    expect(f.stdout).not.toContain("never");
    expect(f.stderr).toContain("returned a non-zero code: 3");
    for (const tag of ["local/bad:syntax", "local/bad:escape", "local/bad:link", "local/bad:run"]) {
      expect((await docker("inspect", tag)).code).not.toBe(0);
    }
    // No intermediate container is left behind.
    expect((await docker("ps", "-aq")).stdout.trim()).toBe("");
  });
});

describe("berth-agent build DIR (a local directory context)", () => {
  it("builds from a directory, .dockerignore honoured, on a root no serve holds", async () => {
    const root = path.join(work, "cli-root");
    const execRoot = await mkdtemp("/run/bt-");
    const tag = path.basename(execRoot).slice(3).toLowerCase().replace(/[^a-z0-9]/g, "x");
    const own = ["--root", root, "--exec-root", execRoot, "--cgroup-parent", `berth-test-${tag}`, "--bridge", `bd${tag}`, "--bridge-subnet", "10.207.240.0/24", "--network-pool", "10.207.241.0/24"];
    const agentCli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [AGENT_BUNDLE, ...args, ...own], { timeout: 120_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
        ),
      );
    try {
      const archive = path.join(work, "tools.tar");
      expect((await docker("save", "-o", archive, env.image)).code).toBe(0);
      expect((await agentCli("load", "-i", archive)).code).toBe(0);
      const ctx = await makeContext({
        Dockerfile: `FROM ${env.image}\nCOPY . /ctx/\nRUN ls /ctx > /listing.txt\n`,
        "kept.txt": "kept\n",
        "skipped.tmp": "skipped\n",
        ".dockerignore": "*.tmp\n",
      });
      const built = await agentCli("build", "-t", "local/from-dir:v1", ctx);
      expect(built.code).toBe(0);
      expect(built.stdout).toContain("Step 3/3 : RUN ls /ctx > /listing.txt");
      expect(built.stdout).toContain("Successfully tagged local/from-dir:v1");
      const images = await agentCli("images");
      expect(images.stdout).toContain("local/from-dir");
      // The listing the RUN step wrote is in the image's last layer.
      const saved = path.join(work, "from-dir.tar");
      expect((await agentCli("save", "-o", saved, "local/from-dir:v1")).code).toBe(0);
      const listing = execFileSync("sh", ["-c", `mkdir -p ${work}/x && tar -xf ${saved} -C ${work}/x && for l in $(find ${work}/x/blobs -type f); do tar -xOf $l listing.txt 2>/dev/null; done; true`], { encoding: "utf8" });
      expect(listing.split("\n")).toEqual(expect.arrayContaining(["Dockerfile", "kept.txt"]));
      expect(listing).not.toContain("skipped.tmp");
    } finally {
      await agentCli("teardown");
      await rm(execRoot, { recursive: true, force: true });
    }
  });
});

describe("docker commit and push", () => {
  it("commit of a changed container, run the new image, push with credentials", async () => {
    expect((await docker("run", "--name", "changed", env.image, "sh", "-c", "echo added > /srv/added.txt; rm /srv/hello.txt")).code).toBe(0);
    const commit = await docker("commit", "changed", "local/committed:v1");
    expect(commit.code).toBe(0);
    expect(commit.stdout.trim()).toMatch(/^sha256:[a-f0-9]{64}$/);
    const run = await docker("run", "--rm", "local/committed:v1", "ls", "/srv");
    expect(run.stdout).toBe("added.txt\n");
    await docker("rm", "changed");

    const target = `${authRegistry.host}/team/committed:v1`;
    expect((await docker("tag", "local/committed:v1", target)).code).toBe(0);
    const denied = await docker("push", target);
    expect(denied.code).not.toBe(0);
    const login = await env.agent.docker(["login", "-u", authRegistry.username!, "--password-stdin", authRegistry.host], { input: authRegistry.password! });
    expect(login.code).toBe(0);
    const pushed = await docker("push", target);
    expect(pushed.code).toBe(0);
    // An independent client sees the tag and every layer.
    const summary = (await skopeoInspect(`docker://${target}`, { creds: `${authRegistry.username}:${authRegistry.password}` })) as { Layers: string[]; Name: string };
    const local = JSON.parse((await docker("inspect", "local/committed:v1")).stdout) as { RootFS: { Layers: string[] } }[];
    expect(summary.Name).toBe(`${authRegistry.host}/team/committed`);
    expect(summary.Layers).toHaveLength(local[0]!.RootFS.Layers.length);
    expect(summary.Layers).toHaveLength(2);
  });
});
