import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// What docker-compose and the CLI ask of lists besides the plain listing:
// label filters (several labels = all of them), dangling/name/id/type filters,
// container prune with label and until filters, and system df's sizes. Each
// checked by what the stock docker CLI prints.

let env: CompatEnv;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });
const lines = (text: string) => text.trim().split("\n").filter(Boolean).sort();
const MIB = 1024 * 1024;

beforeAll(async () => {
  // Several user networks: a pool of four /24s.
  env = await startCompatEnv({ networkPoolPrefix: 22 });
});
afterAll(async () => {
  await env?.close();
});

describe("label filters", () => {
  it("docker ps: several label filters must all hold; a bare key matches any value", async () => {
    await docker("create", "--name", "both", "--label", "com.docker.compose.project=shop", "--label", "com.docker.compose.service=db", env.image, "true");
    await docker("create", "--name", "project-only", "--label", "com.docker.compose.project=shop", "--label", "com.docker.compose.service=web", env.image, "true");
    await docker("create", "--name", "other", "--label", "com.docker.compose.project=blog", env.image, "true");

    const both = await docker("ps", "-a", "--filter", "label=com.docker.compose.project=shop", "--filter", "label=com.docker.compose.service=db", "--format", "{{.Names}}");
    expect(both.code).toBe(0);
    expect(lines(both.stdout)).toEqual(["both"]);
    const anyProject = await docker("ps", "-a", "--filter", "label=com.docker.compose.project", "--format", "{{.Names}}");
    expect(lines(anyProject.stdout)).toEqual(["both", "other", "project-only"]);
    const none = await docker("ps", "-a", "--filter", "label=com.docker.compose.project=shop", "--filter", "label=com.docker.compose.oneoff=True", "--format", "{{.Names}}");
    expect(none.stdout.trim()).toBe("");
    await docker("rm", "both", "project-only", "other");
  });

  it("docker network ls: label, dangling, name, id and type filters", async () => {
    const shop = (await docker("network", "create", "--label", "com.docker.compose.project=shop", "--label", "com.docker.compose.network=back", "shop_back")).stdout.trim();
    await docker("network", "create", "--label", "com.docker.compose.project=shop", "--label", "com.docker.compose.network=front", "shop_front");
    await docker("network", "create", "--label", "com.docker.compose.project=blog", "blog_default");
    const ls = async (...filters: string[]) => lines((await docker("network", "ls", ...filters.flatMap((f) => ["--filter", f]), "--format", "{{.Name}}")).stdout);

    expect(await ls("label=com.docker.compose.project=shop")).toEqual(["shop_back", "shop_front"]);
    expect(await ls("label=com.docker.compose.project=shop", "label=com.docker.compose.network=back")).toEqual(["shop_back"]);
    expect(await ls("label=com.docker.compose.project")).toEqual(["blog_default", "shop_back", "shop_front"]);
    expect(await ls("type=custom")).toEqual(["blog_default", "shop_back", "shop_front"]);
    expect(await ls("type=builtin")).toEqual(["bridge", "host", "none"]);
    expect(await ls("name=shop_")).toEqual(["shop_back", "shop_front"]);
    expect(await ls(`id=${shop.slice(0, 12)}`)).toEqual(["shop_back"]);

    // Dangling: user networks nothing runs on. A running container takes shop_back out of the list.
    expect(await ls("dangling=true")).toEqual(["blog_default", "shop_back", "shop_front"]);
    await docker("run", "-d", "--name", "on-back", "--network", "shop_back", env.image, "sleep", "600");
    expect(await ls("dangling=true")).toEqual(["blog_default", "shop_front"]);
    expect(await ls("dangling=false")).toEqual(["bridge", "host", "none", "shop_back"]);

    const bad = await docker("network", "ls", "--filter", "colour=red");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("invalid filter 'colour'");
    await docker("rm", "-f", "on-back");
    expect((await docker("network", "rm", "shop_back", "shop_front", "blog_default")).code).toBe(0);
  });

  it("docker volume ls: label, dangling and name filters", async () => {
    await docker("volume", "create", "--label", "com.docker.compose.project=shop", "--label", "com.docker.compose.volume=data", "shop_data");
    await docker("volume", "create", "--label", "com.docker.compose.project=shop", "--label", "com.docker.compose.volume=cache", "shop_cache");
    await docker("volume", "create", "--label", "com.docker.compose.project=blog", "blog_data");
    const ls = async (...filters: string[]) => lines((await docker("volume", "ls", ...filters.flatMap((f) => ["--filter", f]), "--format", "{{.Name}}")).stdout);

    expect(await ls("label=com.docker.compose.project=shop")).toEqual(["shop_cache", "shop_data"]);
    expect(await ls("label=com.docker.compose.project=shop", "label=com.docker.compose.volume=data")).toEqual(["shop_data"]);
    expect(await ls("name=_data")).toEqual(["blog_data", "shop_data"]);
    await docker("create", "--name", "holder", "-v", "shop_data:/data", env.image, "true");
    expect(await ls("dangling=true", "label=com.docker.compose.project=shop")).toEqual(["shop_cache"]);
    expect(await ls("dangling=false")).toEqual(["shop_data"]);

    const bad = await docker("volume", "ls", "--filter", "colour=red");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("invalid filter 'colour'");
    await docker("rm", "holder");
    expect((await docker("volume", "rm", "shop_data", "shop_cache", "blog_data")).code).toBe(0);
  });
});

describe("container prune", () => {
  it("--filter label= prunes only the stopped containers with that label, and reports the space it freed", async () => {
    await docker("run", "--name", "scratch-1", "--label", "purpose=scratch", env.image, "sh", "-c", `head -c ${2 * MIB} /dev/zero > /blob`);
    await docker("create", "--name", "scratch-2", "--label", "purpose=scratch", env.image, "true");
    await docker("create", "--name", "keeper", "--label", "purpose=keep", env.image, "true");
    await docker("run", "-d", "--name", "running-scratch", "--label", "purpose=scratch", env.image, "sleep", "600");

    const pruned = await docker("container", "prune", "-f", "--filter", "label=purpose=scratch");
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain("Deleted Containers:");
    expect(pruned.stdout).toMatch(/Total reclaimed space: 2\.\d+MB/);
    const left = lines((await docker("ps", "-a", "--format", "{{.Names}}")).stdout);
    expect(left).toEqual(["keeper", "running-scratch"]);

    // label!: everything stopped without it.
    await docker("create", "--name", "unlabelled", env.image, "true");
    expect((await docker("container", "prune", "-f", "--filter", "label!=purpose=keep")).code).toBe(0);
    expect(lines((await docker("ps", "-a", "--format", "{{.Names}}")).stdout)).toEqual(["keeper", "running-scratch"]);
    await docker("rm", "-f", "running-scratch");
  });

  it("--filter until= keeps what was created later; an unknown filter is refused and nothing goes", async () => {
    // keeper (stopped) is seconds old: "until=1h" means created more than an hour ago.
    const recent = await docker("container", "prune", "-f", "--filter", "until=1h");
    expect(recent.code).toBe(0);
    expect(recent.stdout).not.toContain("keeper");
    expect(lines((await docker("ps", "-a", "--format", "{{.Names}}")).stdout)).toEqual(["keeper"]);

    const bad = await docker("container", "prune", "-f", "--filter", "colour=red");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("invalid filter 'colour'");
    const badUntil = await docker("container", "prune", "-f", "--filter", "until=yesterday-ish");
    expect(badUntil.code).not.toBe(0);
    expect(badUntil.stderr).toContain("invalid filter 'until=yesterday-ish'");
    expect(lines((await docker("ps", "-a", "--format", "{{.Names}}")).stdout)).toEqual(["keeper"]);

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await docker("container", "prune", "-f", "--filter", `until=${future}`)).stdout).toContain(await idOf("keeper"));
    expect((await docker("ps", "-aq")).stdout.trim()).toBe("");
  });
});

async function idOf(name: string): Promise<string> {
  return (await docker("inspect", "-f", "{{.Id}}", name)).stdout.trim();
}

describe("system df", () => {
  it("counts containers' writable layers and volumes' contents, and what of it is reclaimable", async () => {
    await docker("run", "--name", "writer", env.image, "sh", "-c", `head -c ${3 * MIB} /dev/zero > /blob`);
    await docker("run", "--rm", "-v", "dfvol:/d", env.image, "sh", "-c", `head -c ${2 * MIB} /dev/zero > /d/f`);
    await docker("run", "-d", "--name", "user", "-v", "dfused:/d", env.image, "sh", "-c", `head -c ${MIB} /dev/zero > /d/f; exec sleep 600`);
    await docker("exec", "user", "true");

    const df = await docker("system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}");
    expect(df.code).toBe(0);
    const rows = Object.fromEntries(df.stdout.trim().split("\n").map((l) => [l.split("|")[0], l.split("|").slice(1)]));
    // Two containers (one running), 3 MiB written by the stopped one: all of it reclaimable.
    expect(rows.Containers![0]).toBe("2");
    expect(rows.Containers![1]).toBe("1");
    expect(rows.Containers![2]).toMatch(/^3\.1\d*MB$/);
    expect(rows.Containers![3]).toMatch(/^3\.1\d*MB \(\d+%\)$/);
    // dfvol (2 MiB, unused) is reclaimable, dfused (1 MiB) is not.
    expect(rows["Local Volumes"]![0]).toBe("2");
    expect(rows["Local Volumes"]![1]).toBe("1");
    expect(rows["Local Volumes"]![2]).toMatch(/^3\.1\d*MB$/);
    expect(rows["Local Volumes"]![3]).toMatch(/^2\.09\d*MB \(\d+%\)$/);
    // The one image is in use: nothing of it is reclaimable.
    expect(rows.Images![0]).toBe("1");
    expect(rows.Images![3]).toMatch(/^0B/);
    expect(rows["Build Cache"]![0]).toBe("0");

    const verbose = await docker("system", "df", "-v", "--format", "{{json .}}");
    expect(verbose.code).toBe(0);
    const parsed = JSON.parse(verbose.stdout) as { Volumes: { Name: string; Links: string; Size: string }[]; Images: { SharedSize: string; Containers: string }[] };
    expect(parsed.Volumes.find((v) => v.Name === "dfused")).toMatchObject({ Links: "1" });
    expect(parsed.Volumes.find((v) => v.Name === "dfvol")).toMatchObject({ Links: "0", Size: "2.097MB" });
    expect(parsed.Images[0]).toMatchObject({ SharedSize: "0B", Containers: "2" });

    const bad = await env.agent.request("GET", "/v1.43/system/df?type=widgets");
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).message).toBe("unknown object type: widgets");
    await docker("rm", "-f", "writer", "user");
    await docker("volume", "rm", "dfvol", "dfused");
  });
});
