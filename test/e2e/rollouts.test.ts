import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { addHostOverApi } from "../fixtures/console-hosts";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../fixtures/registry";
import { skopeoCopy } from "../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../fixtures/ssh-hosts";
import { buildToolsImage, type BuiltImage } from "../fixtures/test-images";

// Continuous delivery in the console against a real gateway, a real SSH test
// host with its agent, and a real registry: a container deployed from v1 of a
// tag; its deployment page; Update now; a webhook created there (its URL read
// from the page, shown once); v2 pushed to the tag with skopeo and the
// webhook called with curl; the rollout on the timeline, succeeded, with the
// container on v2; "Roll back to this version" on the v1 entry, the rollback
// entry succeeded and the container on v1 again.

const run = promisify(execFile);
const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const NAME = "app";
const REPO = "test/app";

// Upper bounds, not expectations.
const STEP_MS = 30_000;
const INSTALL_MS = 150_000;
const ROLLOUT_MS = 120_000;

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);
/** A digest as rollouts record it: the tag's repository pinned by it ("host:port/test/app@sha256:…"). */
const pinned = (image: string, digest: string) => `${image.replace(/:[^/:]+$/, "")}@${digest}`;

/** The timeline entry in the given state (the newest first when several match). */
function entry(page: Page, attrs: { status?: string; trigger?: string; digestAfter?: string }): Locator {
  const sel = ['[data-testid="rollout-entry"]'];
  if (attrs.status) sel.push(`[data-status="${attrs.status}"]`);
  if (attrs.trigger) sel.push(`[data-trigger="${attrs.trigger}"]`);
  if (attrs.digestAfter) sel.push(`[data-digest-after$="${attrs.digestAfter}"]`);
  return page.locator(sel.join("")).first();
}

describe("rollouts console in a real browser", () => {
  let database: TestDatabase;
  let fleet: SshHostFleet;
  let host: SshTestHost;
  let gateway: Gateway;
  let registry: TestRegistry;
  let browser: Browser;
  let work: string;
  let hostId: string;
  let ownerApi: HttpClient;
  let v1: BuiltImage;
  let v2: BuiltImage;
  /** The tag as the host pulls it. */
  let image: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-e2e-rollouts-"));
    database = await createTestDatabase("e2e_rollouts");
    fleet = await startSshHosts(1);
    host = fleet.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    // Two versions of one small image: the same busybox, told apart by a label.
    v1 = await buildToolsImage(path.join(work, "v1"), { labels: { "org.berth.version": "1" } });
    v2 = await buildToolsImage(path.join(work, "v2"), { labels: { "org.berth.version": "2" } });
    expect(v2.manifestDigest).not.toBe(v1.manifestDigest);
    await skopeoCopy(`oci:${v1.layoutDir}:${v1.tag}`, `docker://${registry.host}/${REPO}:latest`);
    image = `${registry.hostFor(host.gatewayAddress)}/${REPO}:latest`;
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_SECRET_KEY: randomBytes(32).toString("hex"),
    });
    ownerApi = new HttpClient(gateway.url);
    expect((await ownerApi.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostId = await addHostOverApi(ownerApi, host, {
      name: "edge-1",
      privateKey: fleet.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      readyWithinMs: INSTALL_MS,
    });
    // v1 deployed over the API (the deploy console e2e covers the form).
    const deployed = await ownerApi.trpc<{ deploymentId: string; containerId: string }>("containers.deploy", {
      hostId,
      spec: { image, name: NAME, command: ["sh", "-c", "echo app-started; while true; do sleep 1; done"] },
    });
    expect(deployed.error).toBeUndefined();
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await fleet?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The deployment as the API answers it, and the image its container runs (the config digest, as Docker names an image). */
  async function running(deploymentId: string): Promise<{ digest: string | null; imageId: string }> {
    const d = await ownerApi.trpc<{ digest: string | null; containerId: string | null }>("deployments.get", { id: deploymentId }, "query");
    expect(d.error).toBeUndefined();
    const c = await ownerApi.trpc<{ Image: string }>("containers.inspect", { hostId, containerId: d.data!.containerId }, "query");
    expect(c.error).toBeUndefined();
    return { digest: d.data!.digest, imageId: c.data!.Image };
  }

  it("creates a webhook, triggers it with curl, watches the rollout on the timeline and rolls back from it", async () => {
    const url = gateway.url;
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    try {
      await signInThroughForm(page, url, OWNER.email, OWNER.password);

      // 1. Deployments: the container deployed from v1, and its page.
      await page.getByRole("navigation", { name: "Main" }).first().getByRole("link", { name: "Deployments", exact: true }).click();
      await page.waitForURL(`${url}/deployments`);
      await page.getByTestId("deployments-table").getByRole("link", { name: NAME }).click();
      await page.waitForURL(new RegExp(`${url}/deployments/[^/]+$`));
      const deploymentId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
      await page.getByRole("heading", { name: NAME }).waitFor();
      await page.getByTestId("deployment-digest").filter({ hasText: short(v1.manifestDigest) }).waitFor();
      const container = page.getByTestId("deployment-facts").getByRole("link");
      expect(await container.getAttribute("href")).toMatch(new RegExp(`^/containers/${hostId}/`));

      // 2. Update now: v1 again, through a rollout on the timeline (the version to come back to).
      await page.getByRole("button", { name: "Update now" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Update" }).click();
      await entry(page, { status: "succeeded", digestAfter: v1.manifestDigest }).waitFor({ timeout: ROLLOUT_MS });

      // 3. A webhook: its URL and secret shown once, with a curl example.
      await page.getByRole("button", { name: "New webhook" }).click();
      await page.getByLabel("Webhook name").fill("ci main");
      await page.getByRole("button", { name: "Create webhook" }).click();
      const created = page.getByTestId("new-webhook");
      await created.waitFor();
      const hookUrl = await page.getByLabel("Webhook URL", { exact: true }).inputValue();
      const secret = await page.getByLabel("Webhook secret", { exact: true }).inputValue();
      expect(hookUrl).toMatch(/^https?:\/\//);
      expect(secret.length).toBeGreaterThanOrEqual(16);
      expect(await page.getByLabel("curl example", { exact: true }).inputValue()).toContain(`curl -X POST -H 'content-type: application/json'`);
      await screenshot(page, "rollouts-webhook-created");
      await created.getByRole("button", { name: "Done" }).click();
      const row = page.getByRole("row", { name: "Webhook ci main" });
      await row.waitFor();
      // Shown once: the list has only its first characters.
      expect(await page.content()).not.toContain(secret);

      // 4. v2 pushed to the tag, and CI's call: curl, as a pipeline would.
      await skopeoCopy(`oci:${v2.layoutDir}:${v2.tag}`, `docker://${registry.host}/${REPO}:latest`);
      const curl = await run("curl", ["-sS", "-X", "POST", "-H", "content-type: application/json", "-d", JSON.stringify({ image }), "-w", "\n%{http_code}", hookUrl], { timeout: STEP_MS });
      const status = curl.stdout.trim().split("\n").pop();
      expect(status, curl.stdout).toBe("202");
      const accepted = JSON.parse(curl.stdout.trim().split("\n").slice(0, -1).join("\n")) as { rolloutId: string };
      expect(accepted.rolloutId).toBeTruthy();

      // 5. The rollout appears on the timeline and succeeds; the container runs v2.
      const hooked = page.locator(`[data-testid="rollout-entry"][data-rollout-id="${accepted.rolloutId}"]`);
      await hooked.waitFor({ timeout: ROLLOUT_MS });
      expect(await hooked.getAttribute("data-trigger")).toBe("webhook");
      await page.locator(`[data-rollout-id="${accepted.rolloutId}"][data-status="succeeded"]`).waitFor({ timeout: ROLLOUT_MS });
      await hooked.getByTestId("digest-change").filter({ hasText: short(v2.manifestDigest) }).waitFor();
      await page.getByTestId("deployment-digest").filter({ hasText: short(v2.manifestDigest) }).waitFor({ timeout: STEP_MS });
      expect(await running(deploymentId)).toEqual({ digest: pinned(image, v2.manifestDigest), imageId: v2.configDigest });
      // Its last use is listed (the list reads itself again every few seconds).
      await row.getByRole("cell").nth(3).filter({ hasNotText: "never" }).waitFor();
      await screenshot(page, "rollouts-webhook-succeeded");

      // 6. Roll back to v1 from the timeline: the dialog names the digest it goes back to.
      await entry(page, { status: "succeeded", digestAfter: v1.manifestDigest }).getByRole("button", { name: "Roll back to this version" }).click();
      const dialog = page.getByRole("dialog", { name: "Roll back to this version?" });
      await dialog.getByTestId("rollback-digests").filter({ hasText: v1.manifestDigest }).waitFor();
      await dialog.getByRole("button", { name: "Roll back" }).click();
      await page.getByRole("status").filter({ hasText: "Roll back queued" }).waitFor();
      await entry(page, { status: "succeeded", trigger: "rollback" }).waitFor({ timeout: ROLLOUT_MS });
      await page.getByTestId("deployment-digest").filter({ hasText: short(v1.manifestDigest) }).waitFor({ timeout: STEP_MS });
      expect(await running(deploymentId)).toEqual({ digest: pinned(image, v1.manifestDigest), imageId: v1.configDigest });

      // 7. The fleet's Rollouts page lists all three, linked to the deployment.
      await page.getByRole("navigation", { name: "Main" }).first().getByRole("link", { name: "Rollouts", exact: true }).click();
      await page.waitForURL(`${url}/rollouts`);
      await page.getByRole("tab", { name: "All" }).click();
      const rows = page.getByTestId("rollout-row");
      await rows.nth(2).waitFor();
      expect(await rows.first().getByRole("link", { name: NAME }).getAttribute("href")).toBe(`/deployments/${encodeURIComponent(deploymentId)}`);
      await screenshot(page, "rollouts-fleet");
    } catch (e) {
      await screenshot(page, "rollouts-failure");
      throw e;
    } finally {
      await context.close();
    }
  });
});
