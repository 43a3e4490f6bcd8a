import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
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

// Approvals in the console against a real gateway, an SSH test host with its
// agent and a real registry: an Owner makes the host require approval on the
// Approvals settings tab; a Deployer's Update now waits, shows on their
// timeline, and their inbox says they requested it (no buttons); the Owner
// sees the count in the navigation, the request's diff, approves it with a
// comment and it runs (v2 on the host, "approved by" on the timeline); a
// second request is rejected, a comment required, and never reaches the host.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const DEPLOYER = { email: "deployer@example.test", password: "deployer-password-123" };
const NAME = "app";
const REPO = "test/app";

// Upper bounds, not expectations.
const STEP_MS = 30_000;
const INSTALL_MS = 150_000;
const ROLLOUT_MS = 120_000;

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);
/** A digest as rollouts record it: the tag's repository pinned by it ("host:port/test/app@sha256:…"). */
const pinned = (image: string, digest: string) => `${image.replace(/:[^/:]+$/, "")}@${digest}`;

describe("approvals console in a real browser", () => {
  let database: TestDatabase;
  let fleet: SshHostFleet;
  let host: SshTestHost;
  let gateway: Gateway;
  let registry: TestRegistry;
  let browser: Browser;
  let work: string;
  let hostId: string;
  let deploymentId: string;
  let ownerApi: HttpClient;
  let v1: BuiltImage;
  let v2: BuiltImage;
  let image: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-e2e-approvals-"));
    database = await createTestDatabase("e2e_approvals");
    fleet = await startSshHosts(1);
    host = fleet.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    v1 = await buildToolsImage(path.join(work, "v1"), { labels: { "org.berth.version": "1" } });
    v2 = await buildToolsImage(path.join(work, "v2"), { labels: { "org.berth.version": "2" } });
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
    const deployed = await ownerApi.trpc<{ deploymentId: string }>("containers.deploy", {
      hostId,
      spec: { image, name: NAME, command: ["sh", "-c", "echo app-started; while true; do sleep 1; done"] },
    });
    expect(deployed.error).toBeUndefined();
    deploymentId = deployed.data!.deploymentId;
    const roles = await ownerApi.trpc<{ roles: { id: string; name: string }[] }>("roles.list", undefined, "query");
    const deployerRole = roles.data!.roles.find((r) => r.name === "Deployer")!;
    expect((await ownerApi.trpc("users.create", { email: DEPLOYER.email, password: DEPLOYER.password, roleId: deployerRole.id })).error).toBeUndefined();
    // v2 waits in the registry: an update pulls it.
    await skopeoCopy(`oci:${v2.layoutDir}:${v2.tag}`, `docker://${registry.host}/${REPO}:latest`);
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

  async function digestOnHost(): Promise<string | null> {
    const d = await ownerApi.trpc<{ digest: string | null }>("deployments.get", { id: deploymentId }, "query");
    expect(d.error).toBeUndefined();
    return d.data!.digest;
  }

  async function signedIn(who: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await signInThroughForm(page, gateway.url, who.email, who.password);
    return { context, page };
  }

  /** The Deployer's Update now on the deployment page: it waits for an approver. */
  async function requestUpdate(page: Page): Promise<void> {
    await page.goto(`${gateway.url}/deployments/${encodeURIComponent(deploymentId)}`);
    await page.getByRole("button", { name: "Update now" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Update" }).click();
    await page.getByRole("status").filter({ hasText: "waits for an approver" }).waitFor();
    await page.locator('[data-testid="rollout-entry"][data-status="awaitingApproval"]').first().waitFor();
  }

  it("a Deployer's update waits, the Owner approves one and rejects another from the inbox", async () => {
    const url = gateway.url;
    const owner = await signedIn(OWNER);
    const deployer = await signedIn(DEPLOYER);
    try {
      // 1. The Owner makes edge-1 require approval (Approvals → Settings).
      await owner.page.getByRole("navigation", { name: "Main" }).first().getByRole("link", { name: /^Approvals/ }).click();
      await owner.page.waitForURL(`${url}/approvals`);
      await owner.page.getByRole("tab", { name: "Settings" }).click();
      await owner.page.getByRole("button", { name: "Require approval" }).click();
      // A select's name includes its chosen option ("Hosts Choose a host group or a host…").
      await owner.page.getByRole("combobox", { name: /^Hosts/ }).selectOption({ label: "edge-1" });
      await owner.page.getByLabel("Requests expire after (hours)").fill("24");
      await owner.page.getByRole("button", { name: "Save rule" }).click();
      await owner.page.getByRole("row", { name: "Rule for edge-1" }).getByText("24 h").waitFor();

      // 2. The Deployer asks for an update: it waits, and their inbox says they asked (no way to decide it).
      await requestUpdate(deployer.page);
      await deployer.page.getByRole("navigation", { name: "Main" }).first().getByRole("link", { name: /^Approvals/ }).click();
      const mine = deployer.page.getByTestId("approval-request").filter({ hasText: NAME }).first();
      await mine.getByText("You requested this: another approver decides.").waitFor();
      expect(await mine.getByRole("button", { name: "Approve" }).count()).toBe(0);
      expect(await deployer.page.getByTestId("approvals-count").count()).toBe(0);
      expect(await digestOnHost()).toBe(pinned(image, v1.manifestDigest));

      // 3. The Owner: the count in the navigation, the request with its diff; approved with a comment, run now.
      await owner.page.goto(`${url}/approvals`);
      await owner.page.getByRole("navigation", { name: "Main" }).getByTestId("approvals-count").filter({ hasText: "1" }).waitFor();
      const request = owner.page.getByTestId("approval-request").filter({ hasText: NAME }).first();
      await request.getByTestId("policy-verdict").waitFor();
      await request.getByText(DEPLOYER.email).first().waitFor();
      await screenshot(owner.page, "approvals-inbox");
      await request.getByRole("button", { name: "Approve" }).click();
      await request.getByLabel("Comment").fill("ship it");
      await request.getByRole("form", { name: "Approve" }).getByRole("button", { name: "Approve" }).click();
      await owner.page.getByRole("status").filter({ hasText: `Approved: ${NAME} runs now.` }).waitFor();
      await owner.page.getByRole("list", { name: "Decided requests" }).getByText("ship it").waitFor();

      // It runs: the Deployer's timeline shows it succeeded, approved by the Owner; the host runs v2.
      await deployer.page.goto(`${url}/deployments/${encodeURIComponent(deploymentId)}`);
      const approved = deployer.page.locator(`[data-testid="rollout-entry"][data-status="succeeded"][data-digest-after$="@${v2.manifestDigest}"]`).first();
      await approved.waitFor({ timeout: ROLLOUT_MS });
      await approved.getByText(/Approved by/).waitFor();
      await deployer.page.getByTestId("deployment-digest").filter({ hasText: short(v2.manifestDigest) }).waitFor();
      expect(await digestOnHost()).toBe(pinned(image, v2.manifestDigest));

      // 4. Another request, rejected: a comment is required; the rollout is rejected and nothing reaches the host.
      await skopeoCopy(`oci:${v1.layoutDir}:${v1.tag}`, `docker://${registry.host}/${REPO}:latest`);
      await requestUpdate(deployer.page);
      await owner.page.goto(`${url}/approvals`);
      const second = owner.page.getByRole("list", { name: "Waiting requests" }).getByTestId("approval-request").first();
      await second.getByRole("button", { name: "Reject" }).click();
      await second.getByRole("form", { name: "Reject" }).getByRole("button", { name: "Reject" }).click();
      await second.getByRole("alert").filter({ hasText: "Say why" }).waitFor();
      await second.getByLabel("Reason for rejecting").fill("not during the sale");
      await second.getByRole("form", { name: "Reject" }).getByRole("button", { name: "Reject" }).click();
      await owner.page.getByRole("status").filter({ hasText: `Rejected: ${NAME} stays as it is.` }).waitFor();
      await deployer.page.locator('[data-testid="rollout-entry"][data-status="rejected"]').first().waitFor({ timeout: STEP_MS });
      expect(await digestOnHost()).toBe(pinned(image, v2.manifestDigest));
      await screenshot(deployer.page, "approvals-timeline");
    } catch (e) {
      await screenshot(owner.page, "approvals-failure-owner");
      await screenshot(deployer.page, "approvals-failure-deployer");
      throw e;
    } finally {
      await owner.context.close();
      await deployer.context.close();
    }
  });
});
