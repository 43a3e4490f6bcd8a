import { mkdtemp, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Browser, Response as PageResponse } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// A page on another origin of the same site (same loopback address, another
// port: the browser sends the console's cookies along) tries to act as the
// signed-in user and to frame the console, in chromium.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("cross-site request forgery and framing, in a real browser", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let browser: Browser;
  let attacker: http.Server;
  let attackerUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase("csrf");
    // Were the forged hosts.addLocal to get through, "this machine" would start this stub, not a real agent.
    const stubDir = await mkdtemp(path.join(os.tmpdir(), "berth-agent-stub-"));
    const stub = path.join(stubDir, "agent-stub.mjs");
    await writeFile(stub, "process.on('SIGTERM', () => process.exit(0));\nsetTimeout(() => {}, 600_000);\n");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_AGENT_BUNDLE: stub,
    });
    const pages: Record<string, string> = {
      // A plain HTML form needs no CORS preflight; multipart is one of the bodies tRPC would take.
      "/form": `<!doctype html><title>prize</title>
        <form method="POST" action="${gateway.url}/api/trpc/hosts.addLocal" enctype="multipart/form-data">
          <input name="name" value="forged-host"></form>
        <script>document.forms[0].submit()</script>`,
      "/frame": `<!doctype html><title>frame</title><h1>Win a prize</h1>
        <iframe id="console" src="${gateway.url}/" width="1000" height="700"></iframe>`,
    };
    attacker = http.createServer((req, res) => {
      const body = pages[req.url ?? ""];
      res.writeHead(body ? 200 : 404, { "content-type": "text/html" });
      res.end(body ?? "not found");
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => attacker?.close(r));
    await gateway?.stop();
    await database?.close();
  });

  it("a form auto-submitted from another origin can't add a host; the console's own changes still work", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInThroughForm(page, gateway.url, OWNER.email, OWNER.password);

    // The other origin's page posts to the console as soon as it loads.
    const answered = page.waitForResponse((r) => r.url() === `${gateway.url}/api/trpc/hosts.addLocal`);
    await page.goto(`${attackerUrl}/form`);
    const answer = await answered;
    expect(answer.status()).toBe(403);
    await page.waitForURL(`${gateway.url}/api/trpc/hosts.addLocal`);
    await page.getByText("Cross-origin request refused").waitFor();
    await screenshot(page, "csrf-01-form-refused");

    // Nothing happened: no host stored, none listed, and the attempt is in the audit log.
    expect(await database.db.host.count()).toBe(0);
    const api = new HttpClient(gateway.url);
    expect((await api.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    expect((await api.trpc<unknown[]>("hosts.list", undefined, "query")).data).toEqual([]);
    const event = await database.db.auditEvent.findFirst({ where: { action: "hosts.addLocal" }, orderBy: { id: "desc" } });
    expect(event).toMatchObject({ outcome: "denied", actorLabel: OWNER.email });
    expect(event!.params).toMatchObject({ origin: attackerUrl });

    // The console's own mutations (tRPC) and server actions (sign-out) still work in the same browser.
    await page.goto(`${gateway.url}/users`);
    const form = page.getByRole("form", { name: "Create a user" });
    await form.getByLabel("Email").fill("colleague@example.test");
    await form.getByLabel("Password").fill("colleague-password-1");
    await form.getByLabel("Role (everywhere)").selectOption({ label: "Viewer" });
    await form.getByRole("button", { name: "Create user" }).click();
    await page.getByRole("status").filter({ hasText: "Created colleague@example.test" }).waitFor();
    expect(await database.db.user.findUnique({ where: { email: "colleague@example.test" } })).not.toBeNull();
    const owner = await database.db.user.findUniqueOrThrow({ where: { email: OWNER.email } });
    const sessionsBefore = await database.db.session.count({ where: { userId: owner.id } });
    await page.getByRole("button", { name: "Sign out" }).last().click();
    await page.waitForURL(/\/sign-in/);
    expect(await database.db.session.count({ where: { userId: owner.id } })).toBe(sessionsBefore - 1);
    await context.close();
  });

  it("every console page runs under the Content-Security-Policy without a violation", async () => {
    const context = await browser.newContext();
    // Recorded in each document before its own scripts run.
    await context.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const page = await context.newPage();
    const refusedInConsole: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) refusedInConsole.push(m.text());
    });
    await page.goto(`${gateway.url}/sign-in`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await signInThroughForm(page, gateway.url, OWNER.email, OWNER.password);
    const paths = ["/", "/hosts", "/containers", "/deploy", "/images", "/networks", "/volumes", "/policy", "/audit", "/users", "/settings", "/no-such-page"];
    for (const p of paths) {
      // A full load: Next's inline scripts and the theme script run, then React hydrates.
      await page.goto(`${gateway.url}${p}`, { waitUntil: "load" });
      // Hydrated: React attached its handlers (the theme toggle answers).
      if (p !== "/no-such-page") await page.getByRole("button", { name: /Switch to (dark|light) mode/ }).first().waitFor();
      expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), p).toEqual([]);
    }
    // The theme script (inline, with the nonce) ran: the choice survives a reload.
    await page.goto(`${gateway.url}/`, { waitUntil: "load" });
    await page.getByRole("button", { name: /Switch to dark mode/ }).first().click();
    await page.reload({ waitUntil: "load" });
    expect(await page.evaluate(() => document.documentElement.classList.contains("dark"))).toBe(true);
    expect(refusedInConsole).toEqual([]);
    await context.close();
  });

  it("a page on another origin can't frame the console", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInThroughForm(page, gateway.url, OWNER.email, OWNER.password);
    // Signed in, the console renders its dashboard at "/" (as a top-level page).
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();

    const framed: PageResponse[] = [];
    page.on("response", (r) => {
      if (r.url() === `${gateway.url}/` && r.frame() !== page.mainFrame()) framed.push(r);
    });
    await page.goto(`${attackerUrl}/frame`, { waitUntil: "load" });
    await page.getByRole("heading", { name: "Win a prize" }).waitFor();
    await screenshot(page, "csrf-02-frame-blocked");

    // The browser fetched the console for the frame, was told not to show it there, and didn't.
    expect(framed).toHaveLength(1);
    const headers = await framed[0]!.allHeaders();
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["x-frame-options"]).toBe("DENY");
    const frame = await (await page.$("iframe#console"))!.contentFrame();
    expect(frame).not.toBeNull();
    expect(frame!.url()).not.toBe(`${gateway.url}/`);
    expect(await frame!.getByRole("heading", { name: "Dashboard" }).count()).toBe(0);
    expect(await frame!.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    await context.close();
  });
});
