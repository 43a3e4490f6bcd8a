import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { addHostOverApi } from "../fixtures/console-hosts";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../fixtures/registry";
import { skopeoCopy } from "../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../fixtures/ssh-hosts";
import { buildToolsImage } from "../fixtures/test-images";

// Stacks in the console against a real gateway, a real SSH test host with its
// agent, and a real registry: a secret on the Secrets page; a stack typed in
// the editor with a typo (its line named), fixed, judged by the policy per
// service, applied with per-service progress; its page with services and
// merged logs (filtered to one service); an edit applied as version 2 and its
// diff; a roll back to version 1; and Down.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const STACK = "shop";
const SECRET = "app_token";

// Upper bounds, not expectations.
const STEP_MS = 30_000;
const INSTALL_MS = 150_000;
const APPLY_MS = 120_000;

/** The compose file: api (health-gated, with a secret) and web, which waits for api to be healthy. */
function composeFile(image: string, options: { imageKey?: string; greeting?: string; privileged?: boolean } = {}): string {
  const imageKey = options.imageKey ?? "image";
  return [
    "services:",
    "  api:",
    `    image: ${image}`,
    `    command: ["sh", "-c", "echo api-started; while true; do sleep 1; done"]`,
    "    environment:",
    `      GREETING: ${options.greeting ?? "hello"}`,
    "    secrets:",
    `      - ${SECRET}`,
    "    healthcheck:",
    `      test: ["CMD", "test", "-f", "/run/secrets/${SECRET}"]`,
    "      interval: 1s",
    "      retries: 30",
    "  web:",
    `    ${imageKey}: ${image}`,
    `    command: ["sh", "-c", "echo web-started; while true; do sleep 1; done"]`,
    ...(options.privileged ? ["    privileged: true"] : []),
    "    depends_on:",
    "      api:",
    "        condition: service_healthy",
    "secrets:",
    `  ${SECRET}:`,
    "    external: true",
    "",
  ].join("\n");
}

/** Replaces everything in the CodeMirror editor named `label` with `text`, as a paste would. */
async function setEditor(page: Page, label: string, text: string): Promise<void> {
  const editor = page.getByRole("textbox", { name: label, exact: true });
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(text);
}

describe("stacks console in a real browser", () => {
  let database: TestDatabase;
  let fleet: SshHostFleet;
  let host: SshTestHost;
  let gateway: Gateway;
  let registry: TestRegistry;
  let browser: Browser;
  let work: string;
  let image: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-e2e-stacks-"));
    database = await createTestDatabase("e2e_stacks");
    fleet = await startSshHosts(1);
    host = fleet.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    image = `${registry.hostFor(host.gatewayAddress)}/test/tools:latest`;
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_SECRET_KEY: randomBytes(32).toString("hex"),
    });
    const ownerApi = new HttpClient(gateway.url);
    expect((await ownerApi.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    await addHostOverApi(ownerApi, host, {
      name: "edge-1",
      privateKey: fleet.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      readyWithinMs: INSTALL_MS,
    });
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

  it("creates a stack in the editor (typo named by line, fixed), applies it, reads its logs, edits it, diffs, rolls back and takes it down", async () => {
    const url = gateway.url;
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    try {
      await signInThroughForm(page, url, OWNER.email, OWNER.password);

      // 1. The secret the stack mounts, on the Secrets page; its value is never shown again.
      await page.getByRole("link", { name: "Secrets" }).first().click();
      await page.waitForURL(`${url}/secrets`);
      await page.getByRole("button", { name: "New secret" }).click();
      await page.getByLabel("Name", { exact: true }).fill(SECRET);
      await page.getByLabel("Value", { exact: true }).fill("s3cret-value-never-shown");
      await page.getByLabel("Description", { exact: true }).fill("token the api reads");
      await page.getByRole("button", { name: "Save secret" }).click();
      await page.getByRole("status").filter({ hasText: `Saved ${SECRET}.` }).waitFor();
      const secretRow = page.getByRole("row", { name: `Secret ${SECRET}` });
      await secretRow.getByText("stored, hidden").waitFor();
      expect(await page.content()).not.toContain("s3cret-value-never-shown");

      // 2. No stacks yet: the empty state offers the editor.
      await page.getByRole("link", { name: "Stacks" }).first().click();
      await page.waitForURL(`${url}/stacks`);
      await page.getByRole("heading", { name: "No stacks yet" }).waitFor();
      await page.getByRole("link", { name: "New stack" }).first().click();
      await page.waitForURL(`${url}/stacks/new`);

      // 3. A typo: the problem is listed with its line, and marked in the editor.
      const form = page.getByRole("form", { name: "New stack" });
      await form.getByLabel("Stack name").fill(STACK);
      const typo = composeFile(image, { imageKey: "imagee" });
      const typoLine = typo.split("\n").findIndex((l) => l.includes("imagee:")) + 1;
      await setEditor(page, "compose.yaml", typo);
      const problem = page.getByTestId("problem").filter({ hasText: `line ${typoLine}` });
      await problem.waitFor();
      expect(await problem.textContent()).toContain("imagee");
      await page.locator(".cm-lintRange-error").first().waitFor();
      await screenshot(page, "stacks-typo");
      // The problem's line button puts the cursor there.
      await problem.getByRole("button").click();
      await page.locator(".cm-activeLine").filter({ hasText: "imagee" }).waitFor();

      // 4. Valid, but the host's policy forbids a privileged web: the verdict names the service, the rule and the
      // field; Apply waits unless the owner (a host manager) ticks the override.
      await setEditor(page, "compose.yaml", composeFile(image, { privileged: true }));
      await page.getByTestId("validation-ok").filter({ hasText: "2 services" }).waitFor();
      const deniedWeb = page.getByTestId("service-verdict").filter({ hasText: "✗ web" });
      await deniedWeb.waitFor();
      expect(await deniedWeb.textContent()).toMatch(/Privileged.*\(rule allowPrivileged, field privileged\)/);
      expect(await page.getByTestId("service-verdict").filter({ hasText: "✓ api" }).count()).toBe(1);
      await page.getByLabel("Override the policy for this apply").waitFor();
      expect(await form.getByRole("button", { name: "Apply" }).isDisabled()).toBe(true);

      // 5. Fixed: the policy allows both services.
      await setEditor(page, "compose.yaml", composeFile(image));
      await page.getByTestId("validation-ok").filter({ hasText: "2 services" }).waitFor();
      const verdict = page.getByTestId("policy-verdict");
      // (Right after typing, the page may still show the privileged file's verdict.)
      await verdict.getByTestId("service-verdict").filter({ hasText: "✓ web" }).waitFor();
      expect(await verdict.getByTestId("service-verdict").allTextContents()).toEqual([expect.stringContaining("✓ api"), expect.stringContaining("✓ web")]);

      // 6. Apply: progress per service, then the stack's page.
      await form.getByRole("button", { name: "Apply" }).click();
      await page.getByTestId("service-progress").first().waitFor();
      await page.waitForURL(/\/stacks\/(?!new$)[^/]+$/, { timeout: APPLY_MS });
      const stackUrl = page.url();
      await page.getByRole("heading", { name: STACK, exact: true }).waitFor();
      await page.getByTestId("stack-facts").getByText("v1").waitFor();
      for (const service of ["api", "web"]) {
        await page.getByRole("row", { name: `Service ${service}` }).getByTestId("service-replicas").filter({ hasText: "1/1" }).waitFor({ timeout: APPLY_MS });
      }
      await page.getByRole("row", { name: "Service api" }).getByText("healthy", { exact: true }).first().waitFor({ timeout: APPLY_MS });
      await page.getByTestId("stack-status").filter({ hasText: "running" }).waitFor({ timeout: APPLY_MS });
      await screenshot(page, "stacks-page");

      // 7. Merged logs: a line from each service; filtered to one, only its lines.
      await page.getByRole("tab", { name: "Logs" }).click();
      const logs = page.getByTestId("stack-log-lines");
      await logs.getByText("api-started").waitFor();
      await logs.getByText("web-started").waitFor();
      await page.getByLabel("Service", { exact: true }).selectOption("web");
      await logs.getByText("web-started").waitFor();
      expect(await logs.locator("[data-service]").evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute("data-service")))])).toEqual(["web"]);

      // 8. Edit one service's environment and apply version 2.
      await page.getByRole("link", { name: "Edit", exact: true }).click();
      await page.waitForURL(`${stackUrl}/edit`);
      const edit = page.getByRole("form", { name: `Edit stack ${STACK}` });
      await setEditor(page, "compose.yaml", composeFile(image, { greeting: "bonjour" }));
      await page.getByTestId("validation-ok").waitFor();
      await page.getByTestId("policy-verdict").waitFor();
      await edit.getByRole("button", { name: "Apply as version 2" }).click();
      await page.waitForURL(stackUrl, { timeout: APPLY_MS });
      await page.getByTestId("stack-facts").getByText("v2").waitFor();

      // 9. Versions: the diff names the changed line.
      await page.getByRole("tab", { name: "Versions" }).click();
      await page.getByRole("row", { name: "Version 1" }).waitFor();
      const diff = page.getByTestId("version-diff");
      await diff.locator('[data-change="removed"]').filter({ hasText: "GREETING: hello" }).waitFor();
      await diff.locator('[data-change="added"]').filter({ hasText: "GREETING: bonjour" }).waitFor();
      await screenshot(page, "stacks-diff");

      // 10. Roll back to version 1: a new version 3 with version 1's files.
      await page.getByRole("button", { name: "Roll back to version 1" }).click();
      const dialog = page.getByRole("dialog", { name: "Roll back to version 1?" });
      await dialog.getByRole("button", { name: "Roll back", exact: true }).click();
      await page.getByRole("status").filter({ hasText: "Rolled back to version 1: now version 3." }).waitFor({ timeout: APPLY_MS });
      await page.getByTestId("stack-facts").getByText("v3").waitFor();
      await page.getByRole("tab", { name: "Files" }).click();
      expect(await page.getByRole("textbox", { name: "compose.yaml (read-only)" }).textContent()).toContain("GREETING: hello");

      // 11. Down (volumes kept): the stack says so.
      await page.getByRole("button", { name: "Down", exact: true }).click();
      const down = page.getByRole("dialog", { name: `Take ${STACK} down?` });
      await down.getByRole("button", { name: "Down", exact: true }).click();
      await page.getByRole("status").filter({ hasText: /Stack taken down: \d+ containers? removed\./ }).waitFor({ timeout: APPLY_MS });
      await page.getByTestId("stack-status").filter({ hasText: "down" }).waitFor();

      // The list shows it, down, at version 3.
      await page.getByRole("link", { name: "Stacks" }).first().click();
      const row = page.getByTestId("stack-row").filter({ hasText: STACK });
      await row.getByText("v3").waitFor();
      await row.getByTestId("stack-status").filter({ hasText: "down" }).waitFor();
    } catch (err) {
      await screenshot(page, "stacks-failure").catch(() => {});
      throw err;
    } finally {
      await context.close();
    }
  });
});
