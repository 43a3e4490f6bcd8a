import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFINEMENT_HEADER, encodeConfinement } from "../../lib/confinement";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// Data containers: --volumes-from CONTAINER[:ro|rw] through the stock docker
// CLI. The new container gets the source's volumes (named and anonymous) and
// binds at the same places, read-only as dockerd decides, the volumes staying
// the source's; binds keep the allowlist the source was created under.

let env: CompatEnv;
let work: string;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });
const volumeNames = async () => (await docker("volume", "ls", "-q")).stdout.trim().split("\n").filter(Boolean).sort();

interface MountView {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  RW: boolean;
}
const mountsOf = async (name: string) => (JSON.parse((await docker("inspect", "-f", "{{json .Mounts}}", name)).stdout) as MountView[]).sort((a, b) => a.Destination.localeCompare(b.Destination));

beforeAll(async () => {
  env = await startCompatEnv();
  work = await mkdtemp(path.join(os.tmpdir(), "berth-volfrom-"));
});
afterAll(async () => {
  await env?.close();
  await rm(work, { recursive: true, force: true });
});

describe("--volumes-from", () => {
  it("lends a named volume, an anonymous volume and a bind at the same places; tmpfs stays the source's own", async () => {
    const hostDir = path.join(work, "bind");
    mkdirSync(hostDir);
    const created = await docker("create", "--name", "data", "-v", "shared:/named", "-v", "/anon", "-v", `${hostDir}:/bind`, "--mount", "type=tmpfs,target=/scratch", env.image, "true");
    expect(created.code).toBe(0);
    const anon = (await mountsOf("data")).find((m) => m.Destination === "/anon")!.Name!;
    expect(anon).toMatch(/^[a-f0-9]{64}$/);

    const writer = await docker("run", "--rm", "--volumes-from", "data", env.image, "sh", "-c", "echo named > /named/f && echo anon > /anon/f && echo bind > /bind/f && grep -c ' /scratch ' /proc/mounts");
    expect(writer.stdout.trim()).toBe("0");
    expect(writer.code).toBe(1); // grep found no /scratch mount: tmpfs is not lent
    expect(await readFile(path.join(hostDir, "f"), "utf8")).toBe("bind\n");
    const reader = await docker("run", "--rm", "--volumes-from", "data", env.image, "cat", "/named/f", "/anon/f", "/bind/f");
    expect(reader).toMatchObject({ code: 0, stdout: "named\nanon\nbind\n" });

    // The borrower's inspect shows the same volumes and bind at the same destinations.
    await docker("create", "--name", "borrower", "--volumes-from", "data", env.image, "true");
    expect((await mountsOf("borrower")).map((m) => [m.Type, m.Name ?? m.Source, m.Destination, m.RW])).toEqual([
      ["volume", anon, "/anon", true],
      ["bind", hostDir, "/bind", true],
      ["volume", "shared", "/named", true],
    ]);
    expect((await docker("inspect", "-f", "{{json .HostConfig.VolumesFrom}}", "borrower")).stdout.trim()).toBe('["data"]');
  });

  it(":ro makes every lent mount read-only; a read-only source mount stays read-only, :rw or not (as dockerd)", async () => {
    const ro = await docker("run", "--rm", "--volumes-from", "data:ro", env.image, "sh", "-c", "cat /named/f; touch /named/x || touch /anon/x || touch /bind/x || echo all-refused");
    expect(ro.stdout).toBe("named\nall-refused\n");
    expect(ro.stderr).toContain("Read-only file system");

    await docker("create", "--name", "ro-source", "-v", "shared:/named:ro", env.image, "true");
    for (const spec of ["ro-source", "ro-source:rw"]) {
      const r = await docker("run", "--rm", "--volumes-from", spec, env.image, "touch", "/named/x");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("Read-only file system");
    }
    // A request's own -v at a lent destination takes its place.
    const own = await docker("run", "--rm", "--volumes-from", "ro-source", "-v", "own:/named", env.image, "sh", "-c", "touch /named/x && echo writable");
    expect(own.stdout).toBe("writable\n");
    await docker("rm", "ro-source");
    await docker("volume", "rm", "own");
  });

  it("refuses a missing source and a bad mode, leaving nothing", async () => {
    const before = (await docker("ps", "-aq")).stdout;
    const missing = await docker("create", "--volumes-from", "nope", env.image, "true");
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("No such container: nope");
    const badMode = await docker("create", "--volumes-from", "data:rx", env.image, "true");
    expect(badMode.code).not.toBe(0);
    expect(badMode.stderr).toContain("invalid mode: rx");
    expect((await docker("ps", "-aq")).stdout).toBe(before);
  });

  it("rm -v of a borrower leaves the volumes it borrowed; they go with their own container", async () => {
    const anon = (await mountsOf("data")).find((m) => m.Destination === "/anon")!.Name!;
    // A borrower of a borrower gets the same volumes.
    await docker("create", "--name", "second-hand", "--volumes-from", "borrower", env.image, "true");
    expect((await mountsOf("second-hand")).find((m) => m.Destination === "/anon")!.Name).toBe(anon);

    expect((await docker("rm", "-v", "borrower", "second-hand")).code).toBe(0);
    expect(await volumeNames()).toContain(anon);
    expect((await docker("run", "--rm", "--volumes-from", "data", env.image, "cat", "/anon/f")).stdout).toBe("anon\n");
    // The source's own rm -v takes its anonymous volume (nobody else uses it now); the named one stays.
    expect((await docker("rm", "-v", "data")).code).toBe(0);
    const left = await volumeNames();
    expect(left).not.toContain(anon);
    expect(left).toContain("shared");
    await docker("volume", "rm", "shared");
  });

  it("a source removed first leaves its anonymous volume to the borrower, which rm -v doesn't take either", async () => {
    await docker("create", "--name", "data2", "-v", "/anon2", env.image, "true");
    const anon = (await mountsOf("data2")).find((m) => m.Destination === "/anon2")!.Name!;
    await docker("create", "--name", "borrower2", "--volumes-from", "data2", env.image, "true");
    expect((await docker("rm", "-v", "data2")).code).toBe(0);
    expect(await volumeNames()).toContain(anon);
    expect((await docker("rm", "-v", "borrower2")).code).toBe(0);
    expect(await volumeNames()).toContain(anon);
    // Dangling now: prune takes it.
    expect((await docker("volume", "prune", "-f")).stdout).toContain(anon);
  });
});

describe("--volumes-from and the deploy policy's bind allowlist", () => {
  let base: string;
  beforeAll(() => {
    base = path.join("/srv", `berth-volfrom-${randomBytes(4).toString("hex")}`);
    mkdirSync(path.join(base, "allowed", "dir"), { recursive: true });
    writeFileSync(path.join(base, "allowed", "dir", "ok.txt"), "ok\n");
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it("a lent bind is held to the source's allowlist at every start: a symlink swapped in later leads nowhere", async () => {
    const allowed = path.join(base, "allowed");
    const source = path.join(allowed, "dir");
    const body = { Image: env.image, Cmd: ["true"], HostConfig: { Binds: [`${source}:/data`] } };
    const created = await env.agent.request("POST", "/v1.43/containers/create?name=confined-src", JSON.stringify(body), { [CONFINEMENT_HEADER]: encodeConfinement({ bindPrefixes: [allowed] }) });
    expect(created.status).toBe(201);

    // While the path is a real directory inside the allowlist, a borrower created on the socket reads it.
    const fine = await docker("run", "--rm", "--volumes-from", "confined-src", env.image, "cat", "/data/ok.txt");
    expect(fine).toMatchObject({ code: 0, stdout: "ok\n" });

    // Someone allowed to write there swaps the directory for a link to the host's root.
    rmSync(source, { recursive: true });
    symlinkSync("/", source);
    const escaped = await docker("run", "--rm", "--volumes-from", "confined-src", env.image, "ls", "/data/etc");
    expect(escaped.code).not.toBe(0);
    expect(escaped.stderr).toContain(`bind mount of ${source} is not allowed: it leads to /, outside the allowed paths (${allowed})`);
    expect(escaped.stdout).toBe("");
    await docker("rm", "confined-src");
  });

  it("a borrower created under an allowlist is refused binds it lends from outside it, and nothing is created", async () => {
    const outside = path.join(base, "elsewhere");
    mkdirSync(outside, { recursive: true });
    await docker("create", "--name", "open-src", "-v", `${outside}:/data`, env.image, "true");
    const before = (await docker("ps", "-aq")).stdout;
    const body = { Image: env.image, Cmd: ["true"], HostConfig: { VolumesFrom: ["open-src"] } };
    const refused = await env.agent.request("POST", "/v1.43/containers/create", JSON.stringify(body), { [CONFINEMENT_HEADER]: encodeConfinement({ bindPrefixes: [path.join(base, "allowed")] }) });
    expect(refused.status).toBe(403);
    expect((JSON.parse(refused.body) as { message: string }).message).toBe(`bind mount of ${outside} is not allowed: it is outside the allowed paths (${path.join(base, "allowed")})`);
    expect((await docker("ps", "-aq")).stdout).toBe(before);
    await docker("rm", "open-src");
  });
});
