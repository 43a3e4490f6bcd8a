import { readFile } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../../server/audit/verify";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const VIEWER = { email: "viewer@example.test", password: "viewer-password-123" };

describe("console in a real browser", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let browser: Browser;

  beforeAll(async () => {
    database = await createTestDatabase("e2e");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await database?.close();
  });

  it("owner creates a Viewer; the Viewer can't see or call Users & roles; the owner audits, exports and verifies", async () => {
    const url = gateway.url;
    // 1. The owner signs in.
    const ownerContext = await browser.newContext({ acceptDownloads: true });
    const owner = await ownerContext.newPage();
    await owner.goto(`${url}/`);
    await owner.waitForURL(/\/sign-in/);
    await screenshot(owner, "01-sign-in");
    await signInThroughForm(owner, url, OWNER.email, OWNER.password);
    await expect(owner.getByRole("heading", { name: "Dashboard" }).isVisible()).resolves.toBe(true);
    await screenshot(owner, "02-dashboard");

    // 2. Creates a user with the Viewer role.
    await owner.getByRole("link", { name: "Users & roles" }).first().click();
    await owner.waitForURL(`${url}/users`);
    const form = owner.getByRole("form", { name: "Create a user" });
    await form.getByLabel("Email").fill(VIEWER.email);
    await form.getByLabel("Name").fill("Vera Viewer");
    await form.getByLabel("Password").fill(VIEWER.password);
    await form.getByLabel("Role (everywhere)").selectOption({ label: "Viewer" });
    await form.getByRole("button", { name: "Create user" }).click();
    await owner.getByRole("status").filter({ hasText: `Created ${VIEWER.email}` }).waitFor();
    const row = owner.getByTestId(`user-${VIEWER.email}`);
    await row.getByText("Everywhere").waitFor();
    await screenshot(owner, "03-users-and-roles");
    const stored = await database.db.user.findUniqueOrThrow({ where: { email: VIEWER.email }, include: { roleBindings: { include: { role: true } } } });
    expect(stored.roleBindings.map((b) => [b.role.name, b.scopeType])).toEqual([["Viewer", "global"]]);

    // A bad form entry shows the server's message and creates nothing.
    await form.getByLabel("Email").fill("second@example.test");
    await form.getByLabel("Password").fill("short-pass-12");
    await form.getByLabel("Password").evaluate((el) => el.removeAttribute("minlength"));
    await form.getByLabel("Password").fill("short");
    await form.getByRole("button", { name: "Create user" }).click();
    await expect(owner.getByRole("alert").filter({ hasText: "at least 12 characters" }).textContent()).resolves.toContain("12");
    expect(await database.db.user.findUnique({ where: { email: "second@example.test" } })).toBeNull();

    // 3. The Viewer signs in and cannot see or call Users & roles.
    const viewerContext = await browser.newContext();
    const viewer = await viewerContext.newPage();
    await signInThroughForm(viewer, url, VIEWER.email, VIEWER.password);
    expect(await viewer.getByRole("link", { name: "Users & roles" }).count()).toBe(0);
    expect(await viewer.getByRole("link", { name: "Audit" }).count()).toBe(0);
    await viewer.goto(`${url}/users`);
    await viewer.getByText("You don't have access to this page").waitFor();
    expect(await viewer.getByTestId("users-list").count()).toBe(0);
    await screenshot(viewer, "04-viewer-denied");
    const apiStatus = await viewer.evaluate(async () => {
      const list = await fetch(`/api/trpc/users.list?input=${encodeURIComponent(JSON.stringify({ json: null }))}`);
      const create = await fetch("/api/trpc/users.create", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: { email: "evil@example.test", password: "evil-password-123" } }),
      });
      return [list.status, create.status];
    });
    expect(apiStatus).toEqual([403, 403]);
    expect(await database.db.user.findUnique({ where: { email: "evil@example.test" } })).toBeNull();

    // Dark mode toggles and sticks.
    await viewer.getByRole("button", { name: /Switch to dark mode/ }).first().click();
    expect(await viewer.evaluate(() => document.documentElement.classList.contains("dark"))).toBe(true);
    await viewer.reload();
    expect(await viewer.evaluate(() => document.documentElement.classList.contains("dark"))).toBe(true);
    await screenshot(viewer, "05-viewer-dark-mode");

    // 4. The owner opens Audit and filters by that user.
    await owner.getByRole("link", { name: "Audit" }).first().click();
    await owner.waitForURL(`${url}/audit`);
    await owner.getByTestId("audit-table").waitFor();
    const filters = owner.getByRole("form", { name: "Audit filters" });
    await filters.getByLabel("Actor").selectOption({ label: VIEWER.email });
    await filters.getByRole("button", { name: "Apply" }).click();
    const table = owner.getByTestId("audit-table");
    await table.getByText("users.create").first().waitFor();
    const actions = await table.locator("tbody tr td:nth-child(4)").allTextContents();
    expect(actions).toEqual(expect.arrayContaining(["auth.sign_in", "users.list", "users.create"]));
    const actors = await table.locator("tbody tr td:nth-child(3)").allTextContents();
    expect(new Set(actors)).toEqual(new Set([VIEWER.email]));
    await screenshot(owner, "06-audit-filtered");

    // Exports CSV of what the filter shows.
    const [download] = await Promise.all([owner.waitForEvent("download"), owner.getByRole("link", { name: "Export CSV" }).click()]);
    const csv = await readFile((await download.path())!, "utf8");
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toMatch(/^id,createdAt,actorType,actorId,actorLabel/);
    expect(lines.length - 1).toBe(actions.length);
    expect(lines.slice(1).every((l) => l.includes(VIEWER.email))).toBe(true);
    expect(await database.db.auditEvent.count({ where: { action: "audit.export", actorLabel: OWNER.email, outcome: "success" } })).toBe(1);

    // And verifies the chain.
    await owner.getByRole("button", { name: "Verify" }).click();
    const verdict = owner.getByTestId("verify-result");
    await verdict.waitFor();
    expect(await verdict.textContent()).toMatch(/Chain intact: \d+ events checked/);
    await screenshot(owner, "07-audit-verified");
    expect((await verifyAuditChain(database.db)).ok).toBe(true);

    // Signing out returns to the sign-in page and is audited.
    await owner.getByRole("button", { name: "Sign out" }).last().click();
    await owner.waitForURL(/\/sign-in/);
    expect(await database.db.auditEvent.count({ where: { action: "auth.sign_out", actorLabel: OWNER.email } })).toBe(1);
    await ownerContext.close();
    await viewerContext.close();
  });

  it("a wrong password shows a clear message on the sign-in page", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${gateway.url}/sign-in`);
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong email or password." }).waitFor();
    expect(page.url()).toContain("/sign-in");
    expect(await page.getByLabel("Email").inputValue()).toBe(OWNER.email);
    await screenshot(page, "08-sign-in-error");
    await context.close();
  });
});
