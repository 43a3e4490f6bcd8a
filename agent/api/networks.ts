import { z } from "zod";
import type { ContainerEngine } from "../engine/engine";
import { DEFAULT_NETWORK, type NetworkManager, type NetworkRecord } from "../network/manager";
import { ApiError } from "./errors";
import { acceptFilters, boolFilter, matchExact, matchKVList, matchPattern, matchPruneLabels, untilFilter } from "./filters";
import { query, readJson, Router, sendEmpty, sendJson } from "./http";

// /networks/* — bridge networks (plus Docker's "host" and "none" pseudo networks in listings).

const isPredefined = (name: string) => name === DEFAULT_NETWORK || name === "host" || name === "none";

export function networkRoutes(router: Router, network: NetworkManager, engine: ContainerEngine): void {
  const view = (n: NetworkRecord) => {
    const containers: Record<string, object> = {};
    for (const id of network.members(n.id)) {
      const c = engine.find(id);
      const ep = network.endpointsOf(id).find((e) => e.networkId === n.id);
      if (!c || !ep) continue;
      containers[id] = { Name: c.name, EndpointID: ep.hostVeth, MacAddress: ep.mac, IPv4Address: `${ep.ip}/${ep.prefix}`, IPv6Address: "" };
    }
    return {
      Name: n.name,
      Id: n.id,
      Created: n.created,
      Scope: "local",
      Driver: n.driver,
      EnableIPv6: false,
      IPAM: { Driver: "default", Options: null, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
      Internal: n.internal,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: "" },
      ConfigOnly: false,
      Containers: containers,
      // What was asked for (compose compares these with its file's driver_opts and recreates on a difference).
      Options: n.options,
      Labels: n.labels,
    };
  };
  const pseudo = (name: string) => ({ Name: name, Id: name.padEnd(64, "0").slice(0, 64), Created: new Date(0).toISOString(), Scope: "local", Driver: name === "host" ? "host" : "null", EnableIPv6: false, IPAM: { Driver: "default", Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: "" }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {} });

  router.add("GET", "/networks", (ctx) => {
    // dockerd's FilterNetworks: name and id match as patterns, driver and scope exactly, every label must hold.
    const filters = query.filters(ctx.url);
    acceptFilters(filters, ["dangling", "driver", "id", "label", "name", "scope", "type"]);
    const dangling = boolFilter(filters, "dangling");
    const types = filters.get("type") ?? [];
    for (const t of types) if (t !== "builtin" && t !== "custom") throw new ApiError(400, `invalid filter: 'type'='${t}'`);
    const list = [...network.list().map(view), pseudo("host"), pseudo("none")].filter((n) => {
      const predefined = isPredefined(n.Name);
      const used = Object.keys(n.Containers).length > 0;
      return (
        matchExact(filters.get("driver"), n.Driver) &&
        matchPattern(filters.get("name"), n.Name) &&
        matchPattern(filters.get("id"), n.Id) &&
        matchKVList(filters.get("label"), n.Labels) &&
        matchExact(filters.get("scope"), n.Scope) &&
        (dangling === undefined || (dangling ? !predefined && !used : predefined || used)) &&
        (types.length === 0 || types.some((t) => (t === "builtin") === predefined))
      );
    });
    sendJson(ctx, 200, list);
  });

  router.add("GET", "/networks/{id}", (ctx) => {
    const key = ctx.params[0]!;
    if (key === "host" || key === "none") return sendJson(ctx, 200, pseudo(key));
    sendJson(ctx, 200, view(network.get(key)));
  });

  router.add("POST", "/networks/create", async (ctx) => {
    const body = (await readJson(ctx)) as Record<string, unknown> | undefined;
    if (!body || typeof body.Name !== "string" || !body.Name) throw new ApiError(400, "network name (Name) is required");
    const driver = typeof body.Driver === "string" && body.Driver ? body.Driver : "bridge";
    if (driver !== "bridge") throw new ApiError(400, `network driver "${driver}" is not supported (only bridge)`);
    const ipam = (body.IPAM ?? {}) as { Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null };
    const configs = ipam.Config ?? [];
    if (configs.length > 1) throw new ApiError(400, "only one IPAM config (one IPv4 subnet) per network is supported");
    if (body.EnableIPv6) throw new ApiError(400, "IPv6 networks are not supported");
    const created = await network.create({
      name: body.Name,
      subnet: configs[0]?.Subnet || undefined,
      gateway: configs[0]?.Gateway || undefined,
      internal: body.Internal === true,
      labels: (body.Labels ?? {}) as Record<string, string>,
      options: (body.Options ?? {}) as Record<string, string>,
    });
    sendJson(ctx, 201, { Id: created.id, Warning: "" });
  });

  router.add("DELETE", "/networks/{id}", async (ctx) => {
    const key = ctx.params[0]!;
    if (key === "host" || key === "none" || key === DEFAULT_NETWORK) throw new ApiError(403, `${key} is a pre-defined network and cannot be removed`);
    const n = network.get(key);
    const users = engine.list().filter((c) => c.networks.some((a) => a.networkId === n.id));
    if (users.length) throw new ApiError(409, `error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.map((u) => u.name).join(", ")})`);
    await network.remove(n.id);
    sendEmpty(ctx, 204);
  });

  router.add("POST", "/networks/prune", async (ctx) => {
    const filters = query.filters(ctx.url);
    acceptFilters(filters, ["until", "label", "label!"]);
    const until = untilFilter(filters);
    const deleted: string[] = [];
    for (const n of network.list()) {
      if (n.builtin || engine.list().some((c) => c.networks.some((a) => a.networkId === n.id))) continue;
      if ((until !== undefined && Date.parse(n.created) > until) || !matchPruneLabels(filters, n.labels)) continue;
      await network.remove(n.id);
      deleted.push(n.name);
    }
    sendJson(ctx, 200, { NetworksDeleted: deleted });
  });

  router.add("POST", "/networks/{id}/connect", async (ctx) => {
    const body = parseBody(connectBody, await readJson(ctx));
    const key = ctx.params[0]!;
    if (key === "host") throw new ApiError(400, "cannot connect container to host network - container must be created in host network mode");
    if (key === "none") throw new ApiError(400, "container cannot be connected to multiple networks with one of the networks in private (none) mode");
    const n = network.get(key);
    const ipam = body.EndpointConfig?.IPAMConfig;
    if (ipam?.IPv6Address) throw new ApiError(400, `invalid endpoint settings:\nno configured subnet or ip-range contain the IP address ${ipam.IPv6Address}`);
    await engine.connect(body.Container, n.id, { aliases: body.EndpointConfig?.Aliases ?? [], ...(ipam?.IPv4Address ? { ipv4Address: ipam.IPv4Address } : {}) });
    sendEmpty(ctx, 200);
  });

  router.add("POST", "/networks/{id}/disconnect", async (ctx) => {
    const body = parseBody(disconnectBody, await readJson(ctx));
    const key = ctx.params[0]!;
    if (key === "host") throw new ApiError(400, "cannot disconnect container from host network - container was created in host network mode");
    const n = network.get(key);
    await engine.disconnect(body.Container, n.id);
    sendEmpty(ctx, 200);
  });
}

// The CLI and docker-py send every field of Go's structs, unset ones as null.
const connectBody = z.object({
  Container: z.string().min(1, "Container is required"),
  EndpointConfig: z
    .object({
      Aliases: z.array(z.string()).nullish(),
      IPAMConfig: z.object({ IPv4Address: z.string().nullish(), IPv6Address: z.string().nullish() }).nullish(),
    })
    .nullish(),
});
const disconnectBody = z.object({ Container: z.string().min(1, "Container is required"), Force: z.boolean().nullish() });

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError(400, issue.path.length ? `invalid ${issue.path.join(".")}: ${issue.message}` : `invalid body: ${issue.message}`);
  }
  return parsed.data;
}
