import { describe, expect, it } from "vitest";
import { z } from "zod";
import { deploySpecSchema } from "../../../lib/deploy/spec";
import { AppError } from "../../../server/errors";
import { parseEndpointInput } from "../../../server/rest/endpoint";
import { ENDPOINTS } from "../../../server/rest/endpoints";
import { buildOpenApiDocument } from "../../../server/rest/openapi";
import { renderReference } from "../../../server/rest/reference";
import { formatPath, parseBodyStrictly, unknownKeys } from "../../../server/rest/unknown-keys";

// Request bodies refuse unknown keys at every depth, without making the shared deploy-spec schema strict.

const deploy = (body: unknown) =>
  parseEndpointInput(ENDPOINTS.deployContainer, new Request("http://gw.test/api/v1/hosts/h1/containers", { method: "POST", body: JSON.stringify(body) }), { hostId: "h1" }).then(
    () => null,
    (e: unknown) => e,
  );

describe("unknown fields in request bodies", () => {
  it("a misspelt nested key is a 400 naming its path, not a silently dropped field", async () => {
    const secret = await deploy({ image: "busybox:1.36", env: [{ name: "API_KEY", value: "s3cret", Secret: true }] });
    expect(secret).toBeInstanceOf(AppError);
    expect((secret as AppError).code).toBe("BAD_REQUEST");
    expect((secret as AppError).message).toContain("env[0].Secret: unknown field");
    expect((secret as AppError).message).not.toContain("s3cret");
    const mount = (await deploy({ image: "busybox:1.36", mounts: [{ type: "bind", source: "/srv", target: "/data", readonly: true }] })) as AppError;
    expect(mount.message).toContain("mounts[0].readonly: unknown field");
    const deep = (await deploy({ image: "busybox:1.36", restartPolicy: { name: "always", maxRetries: 3 }, healthcheck: { test: ["NONE"], interval: 5 }, devices: [{ hostPath: "/dev/null", perms: "r" }] })) as AppError;
    expect(deep.message).toContain("restartPolicy.maxRetries: unknown field");
    expect(deep.message).toContain("healthcheck.interval: unknown field");
    expect(deep.message).toContain("devices[0].perms: unknown field");
  });

  it("unknown fields are listed alongside the schema's own errors", async () => {
    const e = (await deploy({ image: "busybox:1.36", ports: [{ containerPort: "eighty", hostport: 8080 }] })) as AppError;
    expect(e.message).toContain("ports[0].hostport: unknown field");
    expect(e.message).toContain("ports[0].containerPort");
  });

  it("a spec using only known fields (defaults, each mount type, labels with any keys) is accepted as before", async () => {
    const body = {
      image: "busybox:1.36",
      env: [{ name: "A", value: "b", secret: true }],
      mounts: [{ type: "tmpfs", target: "/t", sizeBytes: 1024 }, { type: "volume", target: "/v" }, { type: "bind", source: "/s", target: "/b", readOnly: true }],
      labels: { "com.example.anything": "x", Secret: "fine: a label" },
      restartPolicy: { name: "on-failure", maximumRetryCount: 2 },
    };
    const input = await parseEndpointInput(ENDPOINTS.deployContainer, new Request("http://gw.test/x", { method: "POST", body: JSON.stringify(body) }), { hostId: "h1" });
    expect(input.body).toEqual(deploySpecSchema.parse(body));
    expect((input.body as { env: { secret: boolean }[] }).env[0]!.secret).toBe(true);
  });

  it("the shared deploy-spec schema itself is unchanged: it still drops unknown keys (the console and stored specs rely on it)", () => {
    const parsed = deploySpecSchema.parse({ image: "busybox:1.36", env: [{ name: "A", value: "b", Secret: true }] });
    expect(parsed.env[0]).toEqual({ name: "A", value: "b", secret: false });
  });

  it("walks optional, default, nullable, pipe, record, union and loose objects", () => {
    const schema = z.object({
      a: z.object({ x: z.number() }).optional(),
      b: z.object({ y: z.string() }).nullable().default(null),
      c: z.object({ z: z.string() }).transform((v) => v.z),
      d: z.record(z.string(), z.object({ w: z.number() })),
      e: z.union([z.object({ kind: z.literal("n"), n: z.number() }), z.object({ kind: z.literal("s"), s: z.string() })]),
      f: z.looseObject({ g: z.number() }),
    });
    const found = unknownKeys(schema, { a: { x: 1, q: 1 }, b: { y: "y", r: 1 }, c: { z: "z", t: 1 }, d: { k: { w: 1, u: 1 } }, e: { kind: "s", s: "x", v: 1 }, f: { g: 1, anything: 2 }, top: 1 });
    expect(found.map(formatPath).sort()).toEqual(["a.q", "b.r", "c.t", "d.k.u", "e.v", "top"]);
    expect(parseBodyStrictly(schema, { c: { z: "z" }, d: {}, e: { kind: "n", n: 1 }, f: { g: 1, extra: true } })).toMatchObject({ success: true, data: { c: "z" } });
  });

  it("the OpenAPI document says additionalProperties: false for every object of the deploy body, and the reference page says unknown fields are refused", () => {
    const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>; components: { schemas: Record<string, unknown> } };
    const body = doc.paths["/hosts/{hostId}/containers"]!.post!.requestBody!.content["application/json"]!.schema;
    const objects: Record<string, unknown>[] = [];
    const collect = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o.type === "object" && o.properties) objects.push(o);
        Object.values(o).forEach(collect);
      }
    };
    collect(body);
    // The top level, env items, ports, three mount kinds, devices, healthcheck, restartPolicy.
    expect(objects.length).toBeGreaterThanOrEqual(9);
    for (const o of objects) expect(o.additionalProperties, JSON.stringify(Object.keys(o.properties as object))).toBe(false);
    const labels = (body as { properties: Record<string, { additionalProperties?: unknown }> }).properties.labels!;
    expect(labels.additionalProperties).toMatchObject({ type: "string" });
    expect(renderReference()).toContain("(unknown fields are refused)");
  });
});
