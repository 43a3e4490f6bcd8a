import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { addHostOverApi } from "../fixtures/console-hosts";
import { addUser } from "../fixtures/console-users";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../fixtures/ssh-hosts";

// Alerts in the console against a real gateway, a real SSH test host with its
// agent, and a webhook receiver this test runs on loopback: a webhook channel
// made on the Channels page (its generated secret shown once, then never), a
// test message sent from the page and received; a rule for that host with a
// short "for"; the host's sshd stopped, so the rule fires: the alert on the
// Alerts page and in the navigation's badge, its detail with the delivery; a
// silence made from the alert, shown on the alert and ended early.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const HOST = "edge-1";
const CHANNEL = "ops-hook";
const RULE = "edge down";

// Upper bounds, not expectations.
const STEP_MS = 30_000;
const INSTALL_MS = 150_000;
const FIRE_MS = 90_000;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that answers 200 and keeps what it got. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Waits (bounded) until the receiver holds a request matching `ok`. */
async function waitForRequest(received: Received[], ok: (r: Received, index: number) => boolean, timeoutMs: number): Promise<Received> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = received.find((r, i) => ok(r, i));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no matching webhook within ${timeoutMs} ms; received ${received.length}: ${received.map((r) => r.body.slice(0, 200)).join("\n")}`);
}

/**
 * Reloads the page until `check` finds what it waits for (the lists refresh on a timer; a reload reads at once).
 * Each load gets up to 10 s to answer: with a host unreachable, its reads (batched with the page's) take longer.
 */
async function reloadUntil(page: Page, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const settle = Math.min(Date.now() + 10_000, deadline);
    while (Date.now() < settle) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    await page.reload();
  }
  throw new Error(`not seen within ${timeoutMs} ms`);
}

describe("alerts console in a real browser", () => {
  let database: TestDatabase;
  let fleet: SshHostFleet;
  let host: SshTestHost;
  let gateway: Gateway;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let ownerApi: HttpClient;

  beforeAll(async () => {
    database = await createTestDatabase("e2e_alerts");
    fleet = await startSshHosts(1);
    host = fleet.hosts[0]!;
    receiver = await startReceiver();
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_SECRET_KEY: randomBytes(32).toString("hex"),
      // The evaluator looks often, so the 2 s "for" of the test's rule is what decides.
      BERTH_ALERT_TICK_MS: "500",
    });
    ownerApi = new HttpClient(gateway.url);
    expect((await ownerApi.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    await addHostOverApi(ownerApi, host, { name: HOST, privateKey: fleet.clientKey.privateKey, readyWithinMs: INSTALL_MS, logs: () => gateway.logs() });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await host?.startSshd().catch(() => undefined);
    await gateway?.stop();
    await fleet?.cleanup();
    await receiver?.close();
    await database?.close();
  });

  it("makes a webhook channel and test-sends to it, makes a rule, sees it fire with the badge, and silences it", async () => {
    const url = gateway.url;
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    try {
      await signInThroughForm(page, url, OWNER.email, OWNER.password);

      // 1. Nothing has fired: the Alerts page says where rules and channels are set.
      await page.getByRole("navigation", { name: "Main" }).first().getByRole("link", { name: "Alerts" }).click();
      await page.waitForURL(`${url}/alerts`);
      await page.getByRole("heading", { name: "No alerts" }).waitFor();
      await page.getByText("rules and channels are set under").waitFor();
      expect(await page.getByTestId("alerts-badge").count()).toBe(0);

      // 2. A webhook channel with a generated secret, shown once after saving.
      await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Channels" }).click();
      await page.waitForURL(`${url}/alerts/channels`);
      await page.getByRole("button", { name: "New channel" }).click();
      const form = page.getByRole("form", { name: "New channel" });
      await form.getByLabel("Name", { exact: true }).fill(CHANNEL);
      await form.getByLabel("URL", { exact: true }).fill(receiver.url);
      await form.getByRole("button", { name: "Generate a secret" }).click();
      const secret = await form.getByLabel("Signing secret").inputValue();
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      await form.getByRole("button", { name: "Save channel" }).click();
      await page.getByRole("status").filter({ hasText: `Saved channel ${CHANNEL}.` }).waitFor();
      expect(await page.getByTestId("channel-secret").textContent()).toBe(secret);
      const row = page.getByRole("row", { name: `Channel ${CHANNEL}` });
      await row.getByText("set, hidden").waitFor();
      await page.reload();
      await row.waitFor();
      expect(await page.content()).not.toContain(secret);

      // 3. A test message from the page arrives at the receiver, and the page says so.
      await row.getByRole("button", { name: `Send a test message to ${CHANNEL}` }).click();
      await row.getByTestId("test-send-result").filter({ hasText: "delivered" }).waitFor();
      await waitForRequest(receiver.received, () => true, STEP_MS);
      await screenshot(page, "alerts-channels");

      // 4. A rule for this host: unreachable for 2 s, critical, to the channel.
      await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Rules" }).click();
      await page.waitForURL(`${url}/alerts/rules`);
      await page.getByRole("row", { name: "Rule Host unreachable" }).getByText("built-in").first().waitFor();
      await page.getByRole("button", { name: "New rule" }).click();
      const ruleForm = page.getByRole("form", { name: "New rule" });
      await ruleForm.getByLabel("Name", { exact: true }).fill(RULE);
      await ruleForm.getByLabel("Kind").selectOption({ label: "Host unreachable" });
      await ruleForm.getByLabel("Severity").selectOption("critical");
      await ruleForm.getByLabel("Scope").selectOption({ label: `host ${HOST}` });
      await ruleForm.getByLabel("For (seconds)").fill("2");
      await ruleForm.getByLabel("Repeat (minutes)").fill("0");
      await ruleForm.getByRole("checkbox", { name: CHANNEL }).check();
      await ruleForm.getByRole("button", { name: "Save rule" }).click();
      await page.getByRole("status").filter({ hasText: `Saved rule ${RULE}.` }).waitFor();
      const ruleRow = page.getByRole("row", { name: `Rule ${RULE}` });
      await ruleRow.getByText(`host ${HOST}`).waitFor();
      await ruleRow.getByText(CHANNEL).waitFor();

      // 5. The host goes away (sshd stopped, its sessions ended): the rule fires.
      const before = receiver.received.length;
      await host.stopSshd();
      await host.dropSessions();
      await waitForRequest(receiver.received, (r, i) => i >= before && r.body.includes(RULE), FIRE_MS);

      await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Alerts" }).click();
      await page.waitForURL(`${url}/alerts`);
      const firing = page.getByTestId("firing-alerts").getByRole("row", { name: `Alert ${RULE}` });
      await reloadUntil(page, async () => (await firing.count()) > 0, FIRE_MS);
      await firing.getByTestId("alert-status").filter({ hasText: "firing" }).waitFor();
      await firing.getByRole("link", { name: HOST }).waitFor();
      // The sidebar's badge (the small-screen menu has its own, hidden here).
      const badge = page.getByTestId("alerts-badge").filter({ visible: true });
      await badge.waitFor();
      expect(Number((await badge.textContent())?.match(/^\d+/)?.[0])).toBeGreaterThanOrEqual(1);
      expect(await badge.getAttribute("data-critical")).toBe("true");
      await screenshot(page, "alerts-firing");

      // 6. Its detail: the timeline and the delivery to the channel.
      await firing.getByRole("link", { name: RULE }).click();
      await page.waitForURL(/\/alerts\/(?!rules|channels|silences)[^/]+$/);
      await page.getByRole("heading", { name: RULE }).waitFor();
      await page.getByTestId("alert-timeline").getByText("fired").first().waitFor();
      await reloadUntil(page, async () => (await page.getByTestId("alert-deliveries").getByRole("row").filter({ hasText: CHANNEL }).count()) > 0, STEP_MS);

      // 7. Silenced from the alert: the form comes with its rule and host; the alert shows who silenced it.
      await page.getByRole("link", { name: "Silence…" }).click();
      await page.waitForURL(/\/alerts\/silences\?/);
      const silenceForm = page.getByRole("form", { name: "New silence" });
      expect(await silenceForm.getByLabel("Rule").inputValue()).not.toBe("");
      await silenceForm.getByLabel("Duration").selectOption({ label: "1 hour" });
      await silenceForm.getByLabel("Comment").fill("maintenance on edge-1");
      await silenceForm.getByRole("button", { name: "Silence" }).click();
      await page.getByRole("status").filter({ hasText: "Silenced until" }).waitFor();
      const silenceRow = page.getByTestId("active-silences").getByRole("row", { name: "Silence maintenance on edge-1" });
      await silenceRow.getByText(`rule ${RULE}`).waitFor();

      await page.goto(`${url}/alerts`);
      await reloadUntil(page, async () => (await firing.getByTestId("silenced-by").count()) > 0, STEP_MS);
      await firing.getByTestId("silenced-by").filter({ hasText: "maintenance on edge-1" }).waitFor();
      await screenshot(page, "alerts-silenced");

      // 8. Ended early: it moves to the ended list.
      await page.goto(`${url}/alerts/silences`);
      await page.getByRole("button", { name: "End silence maintenance on edge-1 now" }).click();
      await page.getByTestId("ended-silences").getByRole("row", { name: "Silence maintenance on edge-1" }).waitFor();
      expect(await page.getByTestId("active-silences").count()).toBe(0);
    } catch (e) {
      await screenshot(page, "alerts-failure").catch(() => undefined);
      throw new Error(`${(e as Error).message}\n--- gateway ---\n${gateway.logs().slice(-4000)}`);
    } finally {
      await context.close();
    }
  });

  it("a Viewer sees the alerts but no channels, and can neither change rules nor silence", async () => {
    const viewer = await addUser(ownerApi, database.db, "viewer@example.test", [{ role: "Viewer" }]);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    try {
      await signInThroughForm(page, gateway.url, viewer.email, viewer.password);
      await page.goto(`${gateway.url}/alerts`);
      await page.getByTestId("firing-alerts").getByRole("row", { name: `Alert ${RULE}` }).waitFor();
      const tabs = page.getByRole("navigation", { name: "Alerts sections" });
      expect(await tabs.getByRole("link", { name: "Channels" }).count()).toBe(0);
      expect(await page.getByRole("button", { name: "Verify audit chain now" }).count()).toBe(0);

      await page.goto(`${gateway.url}/alerts/channels`);
      await page.getByRole("heading", { name: "You don't have access to this page" }).waitFor();
      // The page hides it; the server refuses it.
      const channels = await viewer.client.trpc("channels.list", undefined, "query");
      expect(channels.error).toBeDefined();
      expect(JSON.stringify(await page.content())).not.toContain(receiver.url);

      await page.goto(`${gateway.url}/alerts/rules`);
      await page.getByRole("row", { name: `Rule ${RULE}` }).waitFor();
      await page.getByText("Changing rules needs the alerts.manage permission.").waitFor();
      expect(await page.getByRole("button", { name: "New rule" }).count()).toBe(0);
      expect(await page.getByRole("button", { name: `Edit rule ${RULE}` }).count()).toBe(0);

      await page.goto(`${gateway.url}/alerts/silences`);
      await page.getByText("Silencing needs the alerts.silence permission.").waitFor();
      expect(await page.getByRole("button", { name: "New silence" }).count()).toBe(0);
      const silenced = await viewer.client.trpc("alerts.silence", { ruleId: null, scopeKey: "all", comment: "not mine", endsAt: new Date(Date.now() + 3600_000).toISOString() });
      expect(silenced.error).toBeDefined();
    } finally {
      await context.close();
    }
  });
});
