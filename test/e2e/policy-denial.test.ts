import { randomBytes } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// A Deployer meets the deploy policy in the browser and over the API: the same
// rules named both ways, and every denial audited. The policy is checked before
// anything reaches a host, so these hosts need no SSH behind them.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const DEPLOYER = { email: "deployer@example.test", password: "deployer-password-1" };
const STEP_MS = 30_000;

describe("the deploy policy, seen by a Deployer", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let browser: Browser;
  let hostIds: string[];

  beforeAll(async () => {
    database = await createTestDatabase("e2e_policy");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_SECRET_KEY: randomBytes(32).toString("hex"),
    });
    // Two hosts the Deployer can choose from (addresses in TEST-NET: nothing is ever sent there).
    hostIds = [];
    for (const [name, address] of [["edge-a", "192.0.2.10"], ["edge-b", "192.0.2.11"]] as const) {
      hostIds.push((await database.db.host.create({ data: { name, address } })).id);
    }
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const roles = await owner.trpc<{ roles: { id: string; name: string }[] }>("roles.list", undefined, "query");
    const roleId = roles.data!.roles.find((r) => r.name === "Deployer")!.id;
    expect((await owner.trpc("users.create", { email: DEPLOYER.email, password: DEPLOYER.password, roleId })).error).toBeUndefined();
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await database?.close();
  });

  it("privileged, then a bind mount of /, are refused with the rules named, in the form and over tRPC, each denial audited", async () => {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(STEP_MS);
    await signInThroughForm(page, gateway.url, DEPLOYER.email, DEPLOYER.password);
    await page.goto(`${gateway.url}/deploy`);
    await page.getByTestId("deploy-host").selectOption(hostIds[1]!);
    const fillFrom = async (command: string) => {
      await page.getByLabel("docker run command").fill(command);
      await page.getByRole("button", { name: "Fill the form" }).click();
    };
    await page.getByText("Paste a docker run command").click();

    await fillFrom("docker run -d --name priv --privileged busybox sleep 600");
    await page.getByTestId("policy-violations").filter({ hasText: "Allow privileged containers" }).waitFor();
    // No override for a Deployer.
    expect(await page.getByText("Override the policy for this deployment").count()).toBe(0);
    await page.getByRole("button", { name: "Deploy", exact: true }).click();
    await page.getByText(/Denied by the deploy policy: Allow privileged containers/).first().waitFor();
    await screenshot(page, "deploy-policy-denied");

    await fillFrom("docker run -d --name rootfs -v /:/host busybox sleep 600");
    await page.getByTestId("policy-violations").filter({ hasText: "Bind-mount path allowlist" }).waitFor();
    expect(await page.getByTestId("policy-violations").innerText()).not.toContain("privileged");
    await page.getByRole("button", { name: "Deploy", exact: true }).click();
    await page.getByText(/Denied by the deploy policy: Bind-mount path allowlist/).first().waitFor();

    // The same specs straight to the API are refused the same way.
    const api = new HttpClient(gateway.url);
    expect((await api.signIn(DEPLOYER.email, DEPLOYER.password)).ok).toBe(true);
    const privileged = await api.trpc("containers.deploy", { hostId: hostIds[1], spec: { image: "busybox", name: "priv", privileged: true, command: ["sleep", "600"] } });
    expect(privileged.error?.message).toMatch(/Denied by the deploy policy: Allow privileged containers/);
    const bind = await api.trpc("containers.deploy", {
      hostId: hostIds[1],
      spec: { image: "busybox", name: "rootfs", mounts: [{ type: "bind", source: "/", target: "/host", readOnly: false }], command: ["sleep", "600"] },
    });
    expect(bind.error?.message).toMatch(/Bind-mount path allowlist/);

    const deployer = await database.db.user.findUniqueOrThrow({ where: { email: DEPLOYER.email } });
    const denials = await database.db.auditEvent.findMany({ where: { action: "containers.deploy", actorId: deployer.id }, orderBy: { id: "asc" } });
    expect(denials.map((d) => d.outcome)).toEqual(["denied", "denied", "denied", "denied"]);
    expect(denials.map((d) => d.errorMessage)).toEqual([
      expect.stringMatching(/Allow privileged containers/),
      expect.stringMatching(/Bind-mount path allowlist/),
      expect.stringMatching(/Allow privileged containers/),
      expect.stringMatching(/Bind-mount path allowlist/),
    ]);
    expect(denials.every((d) => d.hostId === hostIds[1])).toBe(true);
    expect(await database.db.deployment.count()).toBe(0);
  });
});
