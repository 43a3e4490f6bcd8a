import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../fixtures/browser";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";

// Where signing in lands, for `next` values an attacker would put in a link.
// The browser's requests to evil.example never leave it: the context answers
// them itself, so a page that got there shows "phished".

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("sign-in redirect in a real browser", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let browser: Browser;

  beforeAll(async () => {
    database = await createTestDatabase("redirect");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await database?.close();
  });

  /** Opens /sign-in?next=<rawQueryValue> in a fresh context, signs in, and returns where the browser settled. */
  async function landingAfterSignIn(rawQueryValue: string): Promise<{ url: URL; phished: boolean }> {
    const context = await browser.newContext();
    await context.route(/^[a-z]+:\/\/(?:[^/]*\.)?evil\.example(?:[:/]|$)/, (route) =>
      route.fulfill({ status: 200, contentType: "text/html", body: "<h1>phished</h1>" }),
    );
    const page = await context.newPage();
    try {
      await page.goto(`${gateway.url}/sign-in?next=${rawQueryValue}`);
      await page.getByLabel("Email").fill(OWNER.email);
      await page.getByLabel("Password").fill(OWNER.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      // Settled: off the sign-in page (to the console or elsewhere).
      await page.waitForURL((u) => u.origin !== gateway.url || !u.pathname.startsWith("/sign-in"), { timeout: 30_000 });
      await page.waitForLoadState("load");
      const url = new URL(page.url());
      const phished = (await page.getByRole("heading", { name: "phished" }).count()) > 0;
      return { url, phished };
    } finally {
      await context.close();
    }
  }

  it.each([
    ["a backslash after the slash, encoded", "/%5Cevil.example/phish"],
    ["a backslash after the slash", "/\\evil.example/phish"],
    ["two slashes", "//evil.example/phish"],
    ["two slashes, encoded", "%2F%2Fevil.example/phish"],
    ["a tab between the slashes", "/%09/evil.example/phish"],
    ["a newline between the slashes", "/%0A/evil.example/phish"],
    ["an absolute URL", "https://evil.example/phish"],
    ["a scheme-relative URL with a backslash", "%5C%5Cevil.example/phish"],
    ["a javascript: URL", "javascript:alert(document.domain)"],
    ["a doubly encoded backslash", "/%255Cevil.example/phish"],
  ])("%s (%s) lands on the console", async (_label, next) => {
    const { url, phished } = await landingAfterSignIn(next);
    expect(phished).toBe(false);
    expect(url.origin).toBe(gateway.url);
    expect(url.pathname).toBe("/");
  });

  it("a same-origin next (/hosts) is honoured", async () => {
    const { url } = await landingAfterSignIn("/hosts");
    expect(url.origin).toBe(gateway.url);
    expect(url.pathname).toBe("/hosts");
  });

  it("a same-origin next with a query (/audit?outcome=denied) is honoured", async () => {
    const { url } = await landingAfterSignIn(encodeURIComponent("/audit?outcome=denied"));
    expect(url.origin).toBe(gateway.url);
    expect(url.pathname).toBe("/audit");
    expect(url.searchParams.get("outcome")).toBe("denied");
  });
});
