import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectProgress, createTestAgent, tarDirectory, type TestAgent } from "../../fixtures/agent-images";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoInspect } from "../../fixtures/skopeo";
import { buildTestImages, type BuiltImage } from "../../fixtures/test-images";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const USER = "berth";
const PASS = "s3cret-pass";

describe.each(["htpasswd", "token"] as const)("registry with %s auth", (auth) => {
  let work: string;
  let registry: TestRegistry;
  let image: BuiltImage;
  let source: TestAgent;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), `berth-auth-${auth}-`));
    image = (await buildTestImages(work)).simple;
    registry = await startRegistry({ auth, username: USER, password: PASS });
    source = await createTestAgent({ credentials: () => ({ username: USER, password: PASS }) });
    await source.images.load(tarDirectory(image.layoutDir));
    await source.images.tag(source.images.list()[0]!.id, `${registry.host}/team/app:v1`);
  });
  afterAll(async () => {
    await source?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("pushes with credentials; the registry holds the image (checked with skopeo)", async () => {
    const progress = collectProgress();
    const pushed = await source.images.push(`${registry.host}/team/app:v1`, { progress: progress.sink });
    expect(pushed.digest).toBe(image.manifestDigest);
    expect(progress.statuses()).toEqual(expect.arrayContaining(["Pushing", "Pushed"]));
    const raw = (await skopeoInspect(`docker://${registry.host}/team/app:v1`, { creds: `${USER}:${PASS}`, raw: true })) as { layers: { digest: string }[] };
    expect(raw.layers.map((l) => l.digest)).toEqual(image.layerDigests);

    const again = collectProgress();
    await source.images.push(`${registry.host}/team/app:v1`, { progress: again.sink });
    expect(again.statuses().filter((s) => s === "Layer already exists")).toHaveLength(image.layerDigests.length + 1);

    // A second repository on the same registry gets the blobs by cross-repository mount.
    await source.images.tag(`${registry.host}/team/app:v1`, `${registry.host}/team/copy:v1`);
    const mounted = collectProgress();
    await source.images.push(`${registry.host}/team/copy:v1`, { progress: mounted.sink });
    expect(mounted.statuses().some((s) => s.startsWith("Mounted from team/app"))).toBe(true);
  });

  it("pulls with credentials (a bearer token is fetched once per scope and reused)", async () => {
    const agent = await createTestAgent({ credentials: () => ({ username: USER, password: PASS }) });
    try {
      registry.tokenServer?.resetRequests();
      const record = await agent.images.pull(`${registry.host}/team/app:v1`);
      expect(record.id).toBe(image.configDigest);
      // Manifest, config and layer requests share one token.
      if (auth === "token") expect(registry.tokenServer!.requestCount).toBe(1);
    } finally {
      await agent.cleanup();
    }
  });

  it("a token earned with one caller's credentials is never reused for a caller without them", async () => {
    let creds: { username: string; password: string } | undefined = { username: USER, password: PASS };
    const agent = await createTestAgent({ credentials: () => creds });
    try {
      await agent.images.pull(`${registry.host}/team/app:v1`);
      creds = undefined;
      await expect(agent.images.pull(`${registry.host}/team/app:v1`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
      creds = { username: USER, password: "wrong" };
      await expect(agent.images.pull(`${registry.host}/team/app:v1`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    } finally {
      await agent.cleanup();
    }
  });

  it("wrong credentials and no credentials get clear errors and store nothing", async () => {
    const wrong = await createTestAgent({ credentials: () => ({ username: USER, password: "wrong" }) });
    const none = await createTestAgent();
    try {
      await expect(wrong.images.pull(`${registry.host}/team/app:v1`)).rejects.toMatchObject({ code: "UNAUTHORIZED", message: expect.stringContaining(registry.host) });
      await expect(none.images.pull(`${registry.host}/team/app:v1`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
      expect(wrong.images.list()).toEqual([]);
      expect(none.images.list()).toEqual([]);
    } finally {
      await wrong.cleanup();
      await none.cleanup();
    }
  });
});
