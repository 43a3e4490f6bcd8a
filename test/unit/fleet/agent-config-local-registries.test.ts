import { describe, expect, it } from "vitest";
import { agentConfigSchema, serveArgs } from "../../../server/fleet/agent-config";

describe("fleet/agent-config: local registries", () => {
  it("takes HOST:PORT entries (names, IPv4, bracketed IPv6) and passes each as --allow-local-registry", () => {
    const c = agentConfigSchema.parse({ allowLocalRegistries: ["127.0.0.1:5000", "localhost:5001", "[::1]:5002"] });
    expect(serveArgs(c)).toEqual([
      "serve", "--root", "/var/lib/berth", "--socket", "/run/berth/agent.sock",
      "--allow-local-registry", "127.0.0.1:5000",
      "--allow-local-registry", "localhost:5001",
      "--allow-local-registry", "[::1]:5002",
    ]);
  });

  it("refuses entries without a port, with a scheme or with shell characters", () => {
    for (const bad of ["127.0.0.1", "http://127.0.0.1:5000", "reg:5000;id", "::1:5000", "a b:5000"]) {
      expect(agentConfigSchema.safeParse({ allowLocalRegistries: [bad] }).error?.issues[0]?.message).toBe("must be host:port, e.g. 127.0.0.1:5000, localhost:5000 or [::1]:5000");
    }
  });
});
