import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../server/db";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { createEmptyDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";

describe("first owner through the one-time set-up link", () => {
  let gateway: Gateway;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    url = (await createEmptyDatabase("setup")).url;
    gateway = await startGateway({ DATABASE_URL: url, BERTH_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), "berth-setup-")) });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it("creates the owner once; the link then stops working", async () => {
    const link = gateway.logs().match(/http:\/\/[^\s]+\/setup\?token=[\w-]+/)![0];
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${gateway.url}/sign-in`);
    await page.getByText("Berth has no owner yet").waitFor();

    await page.goto(link);
    const form = page.getByRole("form", { name: "Create the first owner" });
    await form.getByLabel("Email").fill("first@example.test");
    await form.getByLabel("Password", { exact: true }).fill("first-owner-pass-1");
    await form.getByLabel("Confirm password").fill("different-pass-12");
    await form.getByRole("button", { name: "Create owner" }).click();
    await page.getByRole("alert").filter({ hasText: "The two passwords differ." }).waitFor();
    await screenshot(page, "09-setup-mismatch");
    // Nothing typed is lost on a refused submission.
    expect(await form.getByLabel("Email").inputValue()).toBe("first@example.test");

    await form.getByLabel("Password", { exact: true }).fill("first-owner-pass-1");
    await form.getByLabel("Confirm password").fill("first-owner-pass-1");
    await form.getByRole("button", { name: "Create owner" }).click();
    await page.waitForURL(/\/sign-in/);
    expect(await page.getByText("Berth has no owner yet").count()).toBe(0);

    await signInThroughForm(page, gateway.url, "first@example.test", "first-owner-pass-1");
    await page.getByRole("link", { name: "Users & roles" }).first().waitFor();

    await page.goto(link);
    await page.getByText("invalid, already used or expired").waitFor();

    const db = createDb(url);
    const owner = await db.user.findUniqueOrThrow({ where: { email: "first@example.test" }, include: { roleBindings: { include: { role: true } } } });
    expect(owner.roleBindings.map((b) => b.role.name)).toEqual(["Owner"]);
    expect(await db.user.count()).toBe(1);
    const event = await db.auditEvent.findFirst({ where: { action: "setup.first_owner" } });
    expect(event).toMatchObject({ outcome: "success", actorLabel: "first@example.test" });
    await db.$disconnect();
  });
});
