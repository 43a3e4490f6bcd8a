import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAudit } from "../../server/audit/write";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// The Audit page at a laptop's 1400 px: every column, Outcome included, stays
// in view however long the ids; targets show names with links (a user's
// email, a deployment's container name) instead of raw ids; the Host filter
// is a picker of the hosts the viewer may read. Real gateway, Postgres,
// chromium. Hosts are plain rows: the audit page never contacts them.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const SCOPED = { email: "alpha-only-auditor-with-a-rather-long-address@example.test", password: "scoped-password-123" };
const CONTAINER_ID = "3f9a6c1d2e4b5a6978c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6";

describe("audit table: names, fitting columns, host picker (real browser)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let browser: Browser;
  let alpha: { id: string };
  let bravo: { id: string };
  let createdUserId: string;

  beforeAll(async () => {
    database = await createTestDatabase("e2eaudit");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    browser = await launchBrowser();

    const group = await database.db.hostGroup.create({ data: { name: "alpha-group" } });
    alpha = await database.db.host.create({ data: { name: "alpha-host", address: "192.0.2.71", hostGroupId: group.id } });
    bravo = await database.db.host.create({ data: { name: "bravo-host", address: "192.0.2.72" } });
    await database.db.deployment.create({ data: { hostId: alpha.id, name: "web-frontend", spec: { image: "busybox" }, containerId: CONTAINER_ID, status: "running" } });

    // Real audited actions: the owner creates a user with a role that reads the audit log, and a Viewer binding on alpha's group.
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const role = await owner.trpc<{ id: string }>("roles.create", { name: "Log reader", permissions: ["audit.read"] });
    expect(role.error).toBeUndefined();
    const created = await owner.trpc<{ id: string }>("users.create", { email: SCOPED.email, password: SCOPED.password, roleId: role.data!.id });
    expect(created.error).toBeUndefined();
    createdUserId = created.data!.id;
    const viewerRole = await database.db.role.findUniqueOrThrow({ where: { name: "Viewer" } });
    await database.db.roleBinding.create({
      data: { userId: createdUserId, roleId: viewerRole.id, scopeType: "hostGroup", hostGroupId: group.id, scopeKey: `hostGroup:${group.id}` },
    });
    // Events about a container on alpha and about bravo, as host actions record them.
    const actor = { type: "user" as const, id: "someone", label: OWNER.email };
    await writeAudit(database.db, { actor, action: "containers.action", outcome: "success", target: { type: "container", id: CONTAINER_ID }, hostId: alpha.id, params: { action: "restart" } });
    await writeAudit(database.db, { actor, action: "hosts.update", outcome: "success", target: { type: "host", id: bravo.id }, hostId: bravo.id, params: {} });
    await writeAudit(database.db, { actor, action: "containers.action", outcome: "denied", target: { type: "container", id: "b".repeat(64) }, hostId: bravo.id, errorMessage: "You need the containers.control permission on this host." });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await database?.close();
  });

  async function openAudit(email: string, password: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await signInThroughForm(page, gateway.url, email, password);
    await page.goto(`${gateway.url}/audit`);
    await page.getByTestId("audit-table").waitFor();
    return page;
  }

  const rowOf = (page: Page, action: string, target: string) =>
    page.getByTestId("audit-table").locator("tbody tr").filter({ has: page.locator("td:nth-child(4)", { hasText: action }) }).filter({ hasText: target });

  it("at 1400 px the Outcome column is in view; targets show names with links; ids are shortened", async () => {
    const page = await openAudit(OWNER.email, OWNER.password);
    await screenshot(page, "audit-1400");

    // Inside the viewport and inside the card the table scrolls in (not cut off by it), with nothing to scroll to.
    const frame = (await page.getByTestId("audit-table").locator("xpath=..").boundingBox())!;
    expect(frame.x + frame.width).toBeLessThanOrEqual(1400);
    const outcomeHeader = page.getByRole("columnheader", { name: "Outcome" });
    const box = (await outcomeHeader.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(frame.x);
    expect(box.x + box.width).toBeLessThanOrEqual(frame.x + frame.width);
    const cells = await page.getByTestId("audit-outcome").all();
    expect(cells.length).toBeGreaterThan(5);
    for (const cell of cells) {
      const b = (await cell.boundingBox())!;
      expect(b.x + b.width).toBeLessThanOrEqual(frame.x + frame.width);
      // The badge isn't cut either.
      expect(await cell.evaluate((td) => td.scrollWidth <= td.clientWidth)).toBe(true);
    }
    const scroll = await page.getByTestId("audit-table").locator("xpath=..").evaluate((div) => ({ scroll: div.scrollWidth, client: div.clientWidth }));
    expect(scroll.scroll).toBeLessThanOrEqual(scroll.client);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1400);

    // The created user is named by email, linking to Users & roles; its id isn't shown.
    const userTarget = rowOf(page, "users.create", SCOPED.email).getByTestId("audit-target");
    await expect(userTarget.textContent()).resolves.toBe(`user ${SCOPED.email}`);
    await expect(userTarget.getByRole("link").getAttribute("href")).resolves.toBe("/users");

    // The container is named by its deployment and links to its page.
    const containerTarget = rowOf(page, "containers.action", "web-frontend").getByTestId("audit-target");
    await expect(containerTarget.textContent()).resolves.toBe("container web-frontend");
    await expect(containerTarget.getByRole("link").getAttribute("href")).resolves.toBe(`/containers/${alpha.id}/${CONTAINER_ID}`);
    // A container nothing names: its id, shortened to 12 characters.
    await expect(rowOf(page, "containers.action", "bbbbbbbbbbbb").getByTestId("audit-target").textContent()).resolves.toBe(`container ${"b".repeat(12)}`);
    // The bravo host event names bravo.
    await expect(rowOf(page, "hosts.update", "bravo-host").getByTestId("audit-target").getByRole("link").getAttribute("href")).resolves.toBe(`/hosts/${bravo.id}`);
    const tableText = (await page.getByTestId("audit-table").locator("tbody").textContent()) ?? "";
    expect(tableText).not.toContain(CONTAINER_ID);
    expect(tableText).not.toContain(createdUserId);

    // The Host filter is a picker: choosing bravo leaves only bravo's events.
    const filters = page.getByRole("form", { name: "Audit filters" });
    const hostOptions = await filters.getByLabel("Host").locator("option").allTextContents();
    expect(hostOptions).toEqual(["Any host", "alpha-host", "bravo-host"]);
    await filters.getByLabel("Host").selectOption({ label: "bravo-host" });
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.getByTestId("audit-table").locator("tbody tr").filter({ hasText: "users.create" }).waitFor({ state: "detached" });
    await page.getByTestId("audit-table").locator("tbody tr").filter({ hasText: "hosts.update" }).waitFor();
    const actions = await page.getByTestId("audit-table").locator("tbody tr td:nth-child(4)").allTextContents();
    expect(actions.sort()).toEqual(["containers.action", "hosts.update"]);
    await screenshot(page, "audit-host-filter");
    await page.context().close();
  });

  it("a viewer who reads only alpha is offered only alpha in the picker, and bravo isn't named for them", async () => {
    const page = await openAudit(SCOPED.email, SCOPED.password);
    const hostOptions = await page.getByRole("form", { name: "Audit filters" }).getByLabel("Host").locator("option").allTextContents();
    expect(hostOptions).toEqual(["Any host", "alpha-host"]);
    await expect(rowOf(page, "containers.action", "web-frontend").getByTestId("audit-target").textContent()).resolves.toBe("container web-frontend");
    const bravoTarget = rowOf(page, "hosts.update", "host").getByTestId("audit-target");
    await expect(bravoTarget.textContent()).resolves.not.toContain("bravo-host");
    expect(await bravoTarget.getByRole("link").count()).toBe(0);
    await page.context().close();
  });
});
