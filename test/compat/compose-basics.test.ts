import net from "node:net";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";
import { defineComposeScenario } from "../fixtures/compose-scenario";

// The Debian docker-compose 1.29 (docker-py 5) against the agent's socket; the
// same scenario runs through the gateway's Docker-API proxy in
// test/integration/fleet/compose-through-proxy.test.ts.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

let env: CompatEnv | undefined;

defineComposeScenario(
  "docker-compose 1.29 on the agent socket",
  async () => {
    env = await startCompatEnv({ networkPoolPrefix: 22 });
    const agent = env.agent;
    return {
      dockerHost: `unix://${agent.socket}`,
      env: {},
      docker: (args) => agent.docker(args, { timeoutMs: 60_000 }),
      image: env.image,
      publishAddress: "127.0.0.1",
      port: await freePort(),
    };
  },
  async () => {
    await env?.close();
  },
);
