import "server-only";
import path from "node:path";
import { db } from "../db";
import { dataDir, env } from "../env";
import { loadSecretBox, type SecretBox } from "../secrets/cipher";
import { Fleet } from "./fleet";

// The gateway's one fleet. Kept on globalThis: the entry point and Next's
// server bundle load separate copies of this module but must share the fleet.

export interface FleetServices {
  fleet: Fleet;
  box: SecretBox;
}

const holder = globalThis as unknown as { berthFleet?: Promise<FleetServices> };

export function agentBundlePath(): string {
  return path.resolve(process.env.BERTH_AGENT_BUNDLE || "dist/berth-agent.mjs");
}

export function getFleet(): Promise<FleetServices> {
  holder.berthFleet ??= (async () => {
    const e = env();
    const box = await loadSecretBox(e.BERTH_SECRET_KEY, dataDir(e));
    const fleet = new Fleet({ db: db(), box, bundle: agentBundlePath(), log: (l) => console.log(`[berth] fleet: ${l}`) });
    await fleet.start();
    return { fleet, box };
  })();
  // A failed start (the database briefly down, say) is retried on the next call, not remembered.
  holder.berthFleet.catch(() => {
    holder.berthFleet = undefined;
  });
  return holder.berthFleet;
}

export async function stopFleet(): Promise<void> {
  const current = holder.berthFleet;
  holder.berthFleet = undefined;
  if (current) await (await current).fleet.stop();
}
