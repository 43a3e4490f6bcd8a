import { describe, expect, it } from "vitest";
import { type EngineEvent, EventBus, eventFilter } from "../../../agent/engine/events";

// The event log and dockerd's event filters (moby daemon/events/filter.go):
// which events a `docker events --filter …` (or docker-compose's project
// filter) lets through, and what a since/until replay returns.

const bus = new EventBus();
const container = (action: string, name: string, attributes: Record<string, string> = {}) =>
  bus.emit("container", action, `${name.padEnd(12, "0")}${"f".repeat(52)}`, { name, image: "127.0.0.1:5000/team/app:v1", ...attributes });
const web = container("start", "web", { "com.docker.compose.project": "shop", "com.docker.compose.oneoff": "False" });
const once = container("start", "run", { "com.docker.compose.project": "shop", "com.docker.compose.oneoff": "True" });
const healthy = container("health_status: healthy", "web", { "com.docker.compose.project": "shop" });
const execStart = container("exec_start: sh -c true", "web");
const network = bus.emit("network", "connect", "a".repeat(64), { name: "shop_default", type: "bridge", container: web.Actor.ID });
const volume = bus.emit("volume", "mount", "shop_data", { driver: "local", container: web.Actor.ID, destination: "/data" });
const image = bus.emit("image", "tag", "sha256:" + "b".repeat(64), { name: "127.0.0.1:5000/team/app:v2" });
const all = [web, once, healthy, execStart, network, volume, image];

const pass = (filters: Record<string, string[]>) => all.filter(eventFilter(new Map(Object.entries(filters))));

describe("event filters", () => {
  it("without filters, everything", () => {
    expect(pass({})).toEqual(all);
  });

  it("labels: every one must match (docker-compose's project and one-off labels), a bare key any value", () => {
    expect(pass({ label: ["com.docker.compose.project=shop", "com.docker.compose.oneoff=False"] })).toEqual([web]);
    expect(pass({ label: ["com.docker.compose.oneoff"] })).toEqual([web, once]);
    expect(pass({ label: ["com.docker.compose.project=other"] })).toEqual([]);
  });

  it("event: exact, but health_status, exec_create and exec_start match any action they begin", () => {
    expect(pass({ event: ["start"] })).toEqual([web, once]);
    expect(pass({ event: ["health_status"] })).toEqual([healthy]);
    expect(pass({ event: ["health_status: healthy"] })).toEqual([healthy]);
    expect(pass({ event: ["exec_start"] })).toEqual([execStart]);
    expect(pass({ event: ["start", "mount"] })).toEqual([web, once, volume]);
  });

  it("container, network, volume: the actor's ID or name by prefix, leaving other actors out", () => {
    expect(pass({ container: ["web"] })).toEqual([web, healthy, execStart]);
    expect(pass({ container: [web.Actor.ID.slice(0, 5)] })).toEqual([web, healthy, execStart]);
    expect(pass({ network: ["shop_def"] })).toEqual([network]);
    expect(pass({ volume: ["shop_data"] })).toEqual([volume]);
    expect(pass({ type: ["network", "volume"] })).toEqual([network, volume]);
  });

  it("image: the image's ID or name, with or without its tag; for containers the container's image", () => {
    expect(pass({ image: ["127.0.0.1:5000/team/app"] })).toEqual([web, once, healthy, execStart, image]);
    expect(pass({ image: ["127.0.0.1:5000/team/app:v2"] })).toEqual([image]);
    expect(pass({ image: [image.Actor.ID] })).toEqual([image]);
  });

  it("keys given together must all match", () => {
    expect(pass({ type: ["container"], event: ["start"], container: ["run"] })).toEqual([once]);
    expect(pass({ type: ["image"], event: ["start"] })).toEqual([]);
  });
});

describe("replays", () => {
  it("returns what happened between since and until, oldest first; nothing without either", () => {
    const log = new EventBus();
    const first = log.emit("container", "create", "x");
    const second = log.emit("container", "start", "x");
    const ns = (e: EngineEvent) => BigInt(Math.round(e.timeNano));
    expect(second.timeNano).toBeGreaterThanOrEqual(first.timeNano);
    expect(log.replay()).toEqual([]);
    expect(log.replay(ns(first))).toEqual([first, second]);
    expect(log.replay(undefined, ns(second))).toEqual([first, second]);
    expect(log.replay(ns(second) + 1_000_000n)).toEqual([]);
    expect(log.replay(0n, ns(first) - 1_000_000n)).toEqual([]);
  });

  it("keeps Docker's legacy fields for container and image events only", () => {
    expect(web).toMatchObject({ status: "start", id: web.Actor.ID, from: "127.0.0.1:5000/team/app:v1" });
    expect(network).not.toHaveProperty("status");
    expect(network).not.toHaveProperty("id");
  });
});
