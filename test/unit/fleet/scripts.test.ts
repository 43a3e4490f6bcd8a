import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentConfigSchema } from "../../../server/fleet/agent-config";
import { startCommand, stopCommand, supervisorScript, systemdUnit, teardownCommand, unitName } from "../../../server/fleet/install/scripts";

const defaults = agentConfigSchema.parse({});
const custom = agentConfigSchema.parse({
  installDir: "/opt/berth-1",
  root: "/srv/berth-1",
  socket: "/run/berth-1/agent.sock",
  execRoot: "/run/berth-1/exec",
  bridge: "berth1",
  insecureRegistries: ["registry.local:5000"],
});

describe("fleet/install/scripts", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-scripts-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** `sh -n` on the text as a file; throws with sh's complaint if it isn't valid. */
  async function checkSyntax(name: string, text: string): Promise<void> {
    const file = path.join(dir, name);
    await writeFile(file, text);
    execFileSync("sh", ["-n", file], { stdio: ["ignore", "pipe", "pipe"] });
  }

  it("produces valid POSIX sh", async () => {
    for (const [label, c] of [["defaults", defaults], ["custom", custom]] as const) {
      await checkSyntax(`${label}-supervisor`, supervisorScript(c));
      for (const systemd of [true, false]) {
        await checkSyntax(`${label}-start-${systemd}`, startCommand(c, systemd));
        await checkSyntax(`${label}-stop-${systemd}`, stopCommand(c, systemd));
      }
      await checkSyntax(`${label}-teardown`, teardownCommand(c));
    }
  });

  it("sh -n does catch a broken script (the check is real)", async () => {
    await expect(checkSyntax("broken", "if [ -f x ]; then\n echo\n")).rejects.toThrow();
  });

  it("systemdUnit keeps containers alive across agent restarts and starts the agent", () => {
    const unit = systemdUnit(defaults);
    expect(unit).toContain("\nKillMode=process\n");
    expect(unit).toContain("\nRestart=always\n");
    expect(unit).toContain(
      "\nExecStart=/usr/bin/env node /usr/local/lib/berth/berth-agent.mjs serve --root /var/lib/berth --socket /run/berth/agent.sock\n",
    );
    expect(unit).toMatch(/^\[Unit\][\s\S]*\[Service\][\s\S]*\[Install\]\nWantedBy=multi-user.target\n$/);
  });

  it("systemdUnit passes every configured flag", () => {
    expect(systemdUnit(custom)).toContain(
      "\nExecStart=/usr/bin/env node /opt/berth-1/berth-agent.mjs serve --root /srv/berth-1 --exec-root /run/berth-1/exec --bridge berth1 --socket /run/berth-1/agent.sock --insecure-registry registry.local:5000\n",
    );
  });

  it("supervisorScript runs the agent until the stop file exists", () => {
    const script = supervisorScript(custom);
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain("dir=/opt/berth-1\n");
    expect(script).toContain('while [ ! -e "$dir/stopped" ]; do');
    expect(script).toContain("node /opt/berth-1/berth-agent.mjs serve --root /srv/berth-1");
  });

  it("start and stop use systemd or the supervisor", () => {
    expect(startCommand(defaults, true)).toContain(`systemctl enable --now ${unitName(defaults)}`);
    expect(stopCommand(defaults, true)).toContain(`systemctl disable --now ${unitName(defaults)}`);
    expect(unitName(defaults)).toBe("berth-agent.service");
    expect(unitName({ ...defaults, installDir: "/opt/berth/second" })).toBe("berth-agent-opt-berth-second.service");
    expect(startCommand(custom, false)).toContain("setsid sh /opt/berth-1/berth-agentd");
    expect(startCommand(custom, false)).toContain("rm -f /opt/berth-1/stopped");
    expect(stopCommand(custom, false)).toContain("touch /opt/berth-1/stopped");
  });

  it("teardownCommand shares the state flags", () => {
    expect(teardownCommand(custom)).toBe("node /opt/berth-1/berth-agent.mjs teardown --root /srv/berth-1 --exec-root /run/berth-1/exec --bridge berth1");
  });
});
