import { describe, expect, it } from "vitest";
import { AppError } from "../../../server/errors";
import { parseEndpointInput, queryObject } from "../../../server/rest/endpoint";
import { ENDPOINTS } from "../../../server/rest/endpoints";

// What the handlers answer for bad input, before anything reaches a procedure or a host.

const url = "http://gw.test/api/v1/hosts/h1/containers";
const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) => new Request(url, { method: "POST", body, headers });

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe("endpoint input", () => {
  it("parses a deploy: path, query (strings to booleans) and body with the spec's defaults", async () => {
    const input = await parseEndpointInput(ENDPOINTS.deployContainer, new Request(`${url}?overridePolicy=true`, { method: "POST", body: JSON.stringify({ image: "busybox:1.36", name: "web" }) }), { hostId: "h1" });
    expect(input.path).toEqual({ hostId: "h1" });
    expect(input.query).toEqual({ overridePolicy: true });
    expect(input.body).toMatchObject({ image: "busybox:1.36", name: "web", privileged: false, env: [], pullPolicy: "missing" });
  });

  it("malformed JSON is a 400 that says so", async () => {
    const e = await refusal(parseEndpointInput(ENDPOINTS.deployContainer, post('{"image": "busybox",'), { hostId: "h1" }));
    expect(e.code).toBe("BAD_REQUEST");
    expect(e.message).toMatch(/^Malformed JSON in the request body: /);
  });

  it("an empty body, or a form body, is a 400", async () => {
    expect((await refusal(parseEndpointInput(ENDPOINTS.deployContainer, post(""), { hostId: "h1" }))).message).toMatch(/needs a JSON body/);
    expect((await refusal(parseEndpointInput(ENDPOINTS.deployContainer, post("image=x", { "content-type": "application/x-www-form-urlencoded" }), { hostId: "h1" }))).message).toMatch(/Malformed JSON/);
  });

  it("a schema error names the field; unknown top-level fields are refused, not dropped", async () => {
    const e = await refusal(parseEndpointInput(ENDPOINTS.deployContainer, post(JSON.stringify({ image: "busybox", ports: [{ containerPort: "eighty" }] })), { hostId: "h1" }));
    expect(e.code).toBe("BAD_REQUEST");
    expect(e.message).toMatch(/^Invalid request body:/);
    expect(e.message).toContain("ports[0].containerPort");
    const typo = await refusal(parseEndpointInput(ENDPOINTS.deployContainer, post(JSON.stringify({ image: "busybox", privilegd: true })), { hostId: "h1" }));
    expect(typo.message).toContain("privilegd: unknown field");
    const badImage = await refusal(parseEndpointInput(ENDPOINTS.pullImage, post(JSON.stringify({ reference: "UPPER/Case::x" })), { hostId: "h1" }));
    expect(badImage.message).toContain("reference");
  });

  it("a query that doesn't fit is a 400 naming the parameter", async () => {
    const e = await refusal(parseEndpointInput(ENDPOINTS.containerLogs, new Request(`${url}/c1/logs?tail=lots`), { hostId: "h1", containerId: "c1" }));
    expect(e.code).toBe("BAD_REQUEST");
    expect(e.message).toContain("tail");
    const unknown = await refusal(parseEndpointInput(ENDPOINTS.containerLogs, new Request(`${url}/c1/logs?follow=1`), { hostId: "h1", containerId: "c1" }));
    expect(unknown.message).toContain('"follow"');
  });

  it("path parameters that aren't ids (dot segments, slashes, an unknown action) are a 404", async () => {
    for (const params of [
      { hostId: "..", containerId: "c1" },
      { hostId: "h1", containerId: ".." },
      { hostId: "h1", containerId: "../../etc/passwd" },
      { hostId: "h1/../h2", containerId: "c1" },
    ]) {
      const e = await refusal(parseEndpointInput(ENDPOINTS.inspectContainer, new Request(url), params));
      expect(e.code).toBe("NOT_FOUND");
    }
    const action = await refusal(parseEndpointInput(ENDPOINTS.containerAction, new Request(url, { method: "POST" }), { hostId: "h1", containerId: "c1", action: "explode" }));
    expect(action.code).toBe("NOT_FOUND");
  });

  it("repeated query keys become arrays; empty values are dropped", () => {
    expect(queryObject(new URL("http://x/?hostId=a&hostId=b&name=&state=running"))).toEqual({ hostId: ["a", "b"], state: "running" });
  });
});
