import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentClient } from "../../../server/fleet/agent/client";
import type { AgentEvent, PullProgress } from "../../../server/fleet/agent/types";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { localAgentSettings, type LocalAgent } from "../../fixtures/local-agent";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// One suite, run against every way the gateway reaches a host: an SSH test
// host (ssh2 to the agent's socket) and "this machine" (the gateway runs the
// agent itself). The same cases go through the one AgentClient the fleet hands
// out, so what works on one link works on the other.

interface LinkUnderTest {
  hostId: string;
  /** The test image as this host reaches the test registry. */
  image: string;
  /** Removes the host and everything its link left behind. */
  cleanup(): Promise<void>;
}

type LinkKind = "ssh" | "local";

describe("host link conformance", () => {
  let env: FleetEnv;
  let owner: Caller;
  let registry: TestRegistry;
  let work: string;

  /** Adds a host of `kind` through the console's own procedures and waits until its agent answers. */
  const links: Record<LinkKind, () => Promise<LinkUnderTest>> = {
    async ssh() {
      const hosts: SshHostFleet = await startSshHosts(1);
      const h = hosts.hosts[0]!;
      const registryHost = registry.hostFor(h.gatewayAddress);
      const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
      const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
      const added = await owner.hosts.add({
        name: "conformance-ssh",
        address: h.address,
        port: 22,
        username: "root",
        auth,
        fingerprint: probe.fingerprint,
        agent: agentSettingsFor(h, [registryHost]),
      });
      await owner.hosts.installAgent({ hostId: added.id });
      return {
        hostId: added.id,
        image: `${registryHost}/test/tools:latest`,
        async cleanup() {
          await owner.hosts.remove({ hostId: added.id });
          await hosts.cleanup();
        },
      };
    },
    async local() {
      const local: LocalAgent = await localAgentSettings();
      // The registry runs on this machine's loopback: the agent reaches it only where allowed.
      const added = await owner.hosts.addLocal({
        name: "conformance-local",
        agent: { ...local.settings, insecureRegistries: [registry.host], allowLocalRegistries: registry.localEndpoints },
      });
      return {
        hostId: added.id,
        image: `${registry.host}/test/tools:latest`,
        async cleanup() {
          // Removing the host stops the agent the gateway runs; teardown then clears what it left.
          await owner.hosts.remove({ hostId: added.id });
          await local.teardown();
        },
      };
    },
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-conformance-"));
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
  });

  afterAll(async () => {
    await env?.close();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe.each(["ssh", "local"] as const)("over the %s link", (kind) => {
    let link: LinkUnderTest;
    let client: AgentClient;
    const name = `conformance-${kind}`;

    /** The container's row in the host's list (all states), or undefined once it is gone. */
    const listed = async (id: string) => (await client.containers({ all: true })).find((c) => c.Id === id);

    beforeAll(async () => {
      link = await links[kind]();
      const host = await waitFor(() => owner.hosts.get({ hostId: link.hostId }), (v) => v.status === "connected" && v.agent === "ok", 60_000);
      expect(host).toMatchObject({ status: "connected", agent: "ok" });
      client = env.fleet.client(link.hostId);
    });

    afterAll(async () => {
      await link?.cleanup();
    });

    it("answers ping and version, the same version the console shows", async () => {
      expect(await client.ping()).toBe("OK");
      const version = await client.version();
      expect(version.ApiVersion).toMatch(/^1\.\d+$/);
      expect(version.Version).toBe((await owner.hosts.get({ hostId: link.hostId })).agentVersion);
    });

    it("pulls an image from the test registry, reporting each layer, and then has it", async () => {
      const progress: PullProgress[] = [];
      await client.pull(link.image, { timeoutMs: 120_000, onProgress: (p) => progress.push(p) });
      expect(progress.some((p) => p.id)).toBe(true);
      const image = await client.inspectImage(link.image);
      expect(image?.RepoTags).toContain(link.image);
      expect((await client.images()).map((i) => i.Id)).toContain(image!.Id);
    });

    it("creates, starts, lists, reads logs of, execs in, stops and removes a container; the event stream reports each step", async () => {
      const abort = new AbortController();
      const events: AgentEvent[] = [];
      const watching = (async () => {
        for await (const e of client.events({ signal: abort.signal })) events.push(e);
      })();
      try {
        const created = await client.createContainer({ Image: link.image, Cmd: ["sh", "-c", "echo hello-from-conformance; exec sleep 300"] }, name);
        const id = created.Id;
        expect((await listed(id))?.State).toBe("created");

        await client.startContainer(id);
        const running = await listed(id);
        expect(running).toMatchObject({ State: "running", Names: [`/${name}`] });

        const logs = await waitFor(
          async () => {
            const lines: string[] = [];
            for await (const frame of client.logs(id, { tail: "all" })) lines.push(frame.text);
            return lines.join("");
          },
          (text) => text.includes("hello-from-conformance"),
        );
        expect(logs).toContain("hello-from-conformance");

        const exec = await client.exec(id, ["sh", "-c", "echo $((6 * 7)); echo to-stderr >&2"]);
        expect(exec).toEqual({ exitCode: 0, stdout: "42\n", stderr: "to-stderr\n" });

        await client.stopContainer(id, { timeoutSeconds: 1 });
        expect((await client.inspectContainer(id)).State.Running).toBe(false);
        expect((await listed(id))?.State).toBe("exited");

        await client.removeContainer(id);
        expect(await listed(id)).toBeUndefined();

        const seen = await waitFor(
          async () => events.filter((e) => e.Type === "container" && e.Actor.ID === id).map((e) => e.Action),
          (actions) => actions.includes("destroy"),
        );
        // In order, whatever else the agent reports between them.
        const order = ["create", "start", "die", "destroy"].map((a) => seen.indexOf(a));
        expect(order.every((i) => i >= 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
      } finally {
        abort.abort();
        await watching;
      }
    });
  });
});
