import { describe, expect, it } from "vitest";
import type { AgentClient } from "../../../server/fleet/agent/client";
import { recoverLeftovers } from "../../../server/rollouts/stack-roll";

// What a stack rollout cut short leaves (a gateway stopped mid-way) is put
// right before the stack's next rollout or apply.

function fake(names: string[]) {
  const calls: string[] = [];
  const client = {
    containers: async () =>
      names.map((n, i) => ({
        Id: `id${i}`,
        Names: [`/${n}`],
        Image: "x",
        State: n.includes("-prev-") ? "exited" : "running",
        Status: "",
        Labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": n.split("-")[1]!, "com.docker.compose.container-number": "1" },
      })),
    renameContainer: async (id: string, name: string) => void calls.push(`rename ${id} ${name}`),
    removeContainer: async (id: string) => void calls.push(`remove ${id}`),
  };
  return { client: client as unknown as AgentClient, calls };
}

describe("recoverLeftovers", () => {
  it("removes a new container never switched in, and an old one set aside whose name is taken again", async () => {
    const { client, calls } = fake(["shop-api-1", "shop-api-1-prev-0a1b2c3d", "shop-web-1-next-0a1b2c3d", "shop-web-1"]);
    expect(await recoverLeftovers(client, "shop")).toEqual(["shop-api-1-prev-0a1b2c3d removed", "shop-web-1-next-0a1b2c3d removed"]);
    expect(calls).toEqual(["remove id1", "remove id2"]);
  });

  it("puts an old container set aside back under its name when nothing took it", async () => {
    const { client, calls } = fake(["shop-api-1-prev-0a1b2c3d", "shop-api-1-next-0a1b2c3d"]);
    expect(await recoverLeftovers(client, "shop")).toEqual(["shop-api-1-prev-0a1b2c3d put back as shop-api-1", "shop-api-1-next-0a1b2c3d removed"]);
    expect(calls).toEqual(["rename id0 shop-api-1", "remove id1"]);
  });

  it("leaves a project with nothing left over alone", async () => {
    const { client, calls } = fake(["shop-api-1", "shop-web-1", "shop-web-2"]);
    expect(await recoverLeftovers(client, "shop")).toEqual([]);
    expect(calls).toEqual([]);
  });
});
