import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { ENDPOINT_LIST } from "../../../server/rest/endpoints";
import { buildOpenApiDocument } from "../../../server/rest/openapi";
import { renderReference } from "../../../server/rest/reference";

// The document is generated from the endpoint table; these check it is valid
// OpenAPI 3.1 and that the table, the document and the route files agree.

const V1 = path.resolve(import.meta.dirname, "../../../app/api/v1");

/** Every route.ts under app/api/v1 as an OpenAPI path ([x] → {x}); the catch-all is left out (it only answers 404). */
function routePaths(dir = V1, prefix = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name.startsWith("[[...")) continue;
      out.push(...routePaths(full, `${prefix}/${name.replace(/^\[(\w+)\]$/, "{$1}")}`));
    } else if (name === "route.ts") out.push(prefix || "/");
  }
  return out;
}

type Doc = { openapi: string; paths: Record<string, Record<string, { operationId: string; security: unknown[]; responses: Record<string, unknown>; parameters: { name: string; in: string }[] }>> };

describe("the OpenAPI document", () => {
  const doc = buildOpenApiDocument() as unknown as Doc;

  it("validates as OpenAPI 3.1", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("has every route file under app/api/v1, and no path without one", () => {
    const files = routePaths().sort();
    expect(files.length).toBeGreaterThan(10);
    expect(Object.keys(doc.paths).sort()).toEqual(files);
  });

  it("every operation has a unique id, bearer auth unless public, and 401/429 when protected", () => {
    const ids = new Set<string>();
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(ids.has(op.operationId), `${method} ${p}`).toBe(false);
        ids.add(op.operationId);
        const ep = ENDPOINT_LIST.find((e) => e.id === op.operationId)!;
        if (ep.permission === "public") expect(op.security).toEqual([]);
        else {
          expect(op.security).toEqual([{ bearerAuth: [] }]);
          expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["401", "429"]));
        }
        // Path parameters in the template are declared, and only those.
        const inTemplate = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect(op.parameters.filter((x) => x.in === "path").map((x) => x.name)).toEqual(inTemplate);
      }
    }
    expect(ids.size).toBe(ENDPOINT_LIST.length);
  });

  it("the deploy body is the deploy spec schema (input side: defaults optional), strict at the top", () => {
    const op = (doc.paths["/hosts/{hostId}/containers"]!.post as unknown as { requestBody: { content: { "application/json": { schema: Record<string, unknown> } } } });
    const schema = op.requestBody.content["application/json"].schema as { required: string[]; properties: Record<string, unknown>; additionalProperties: boolean };
    expect(schema.required).toEqual(["image"]);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["image", "privileged", "mounts", "env", "ports", "memoryBytes"]));
    expect(schema.additionalProperties).toBe(false);
  });

  it("the reference page lists every endpoint with a curl example, and loads nothing from elsewhere", () => {
    const html = renderReference();
    for (const ep of ENDPOINT_LIST) expect(html).toContain(`id="${ep.id}"`);
    expect(html).toContain("curl -X POST &quot;$BERTH_URL/api/v1/hosts/$HOST_ID/containers&quot;");
    expect(html).not.toMatch(/<script|src=|https?:\/\//);
  });
});
