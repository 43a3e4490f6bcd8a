import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// A layout doesn't guard the page rendered beside it: each console page asks
// for its viewer itself. Every page under app/(console) is found on disk, so a
// page added later is covered without touching this file.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const CONSOLE = path.resolve(import.meta.dirname, "../../app/(console)");

/** Sample values for dynamic segments ([hostId] …): any id will do, nobody is signed in. */
const sample = (segment: string) => `sample-${segment.replace(/[[\].]/g, "").toLowerCase()}`;

/** The URL path of every page.tsx below app/(console): route groups dropped, dynamic segments filled. */
async function consolePages(): Promise<string[]> {
  const files = (await readdir(CONSOLE, { recursive: true })).filter((f) => path.basename(f) === "page.tsx");
  return files
    .map((f) => {
      const segments = path
        .dirname(f)
        .split(path.sep)
        .filter((s) => s !== "." && !/^\(.*\)$/.test(s))
        .map((s) => (s.startsWith("[") ? sample(s) : s));
      return `/${segments.join("/")}`;
    })
    .sort();
}

/** What the gateway logged since `from`, minus its own request lines. */
const errorsIn = (log: string) => log.split("\n").filter((line) => /error|⨯|TypeError|Cannot read/i.test(line));

describe("console pages without a session (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let pages: string[];

  beforeAll(async () => {
    pages = await consolePages();
    database = await createTestDatabase("anon");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("finds the console's pages on disk", () => {
    // The dashboard and a dynamic page at least: the walk itself works.
    expect(pages).toContain("/");
    expect(pages).toContain("/hosts/sample-hostid");
    expect(pages.length).toBeGreaterThanOrEqual(10);
  });

  it("every page redirects an anonymous visit to sign-in with next=, and the gateway logs no error", async () => {
    const from = gateway.logs().length;
    const anonymous = new HttpClient(gateway.url);
    const answers: { page: string; status: number; location: string | null }[] = [];
    for (const page of pages) {
      const url = `${page}?tab=logs`;
      const res = await anonymous.fetch(url, { headers: { accept: "text/html" } });
      await res.arrayBuffer();
      answers.push({ page: url, status: res.status, location: res.headers.get("location") });
    }
    // Today's failure: each page ran its data access with no viewer ("Cannot read properties of null (reading 'grants')").
    expect(errorsIn(gateway.logs().slice(from))).toEqual([]);
    for (const a of answers) {
      expect(a.status, a.page).toBeGreaterThanOrEqual(300);
      expect(a.status, a.page).toBeLessThan(400);
      const location = new URL(a.location ?? "", gateway.url);
      expect(location.origin, a.page).toBe(gateway.url);
      expect(location.pathname, a.page).toBe("/sign-in");
      expect(location.searchParams.get("next"), a.page).toBe(a.page);
    }
  });

  it("a signed-in owner gets every page, and the gateway logs no error", async () => {
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const from = gateway.logs().length;
    for (const page of pages) {
      const res = await owner.fetch(page, { headers: { accept: "text/html" } });
      const html = await res.text();
      expect(res.status, page).toBe(200);
      expect(html, page).toContain(OWNER.email);
    }
    expect(errorsIn(gateway.logs().slice(from))).toEqual([]);
  });
});
