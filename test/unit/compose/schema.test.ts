// The loader's schema validator against ajv (run here in Node; the loader
// can't use it in the browser, whose CSP forbids eval): both must accept and
// refuse the same documents.

import Ajv from "ajv";
import { describe, expect, it } from "vitest";
import { COMPOSE_SCHEMA, validateCompose } from "@/lib/compose/schema";

/** The schema as ajv (draft-07) takes it: draft-04 `id`s and `$schema` dropped, unknown formats ignored. */
function forAjv(node: unknown, parentKey = ""): unknown {
  if (Array.isArray(node)) return node.map((n) => forAjv(n));
  if (node && typeof node === "object") {
    const names = ["properties", "patternProperties", "definitions"].includes(parentKey);
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k]) => names || (k !== "id" && k !== "$schema" && k !== "deprecated"))
        .map(([k, v]) => [k, forAjv(v, names ? "" : k)]),
    );
  }
  return node;
}

const ajv = new Ajv({ allErrors: true, strict: false, formats: { ports: true, duration: true, subnet_ip_address: true, expose: true } });
const ajvValidate = ajv.compile(forAjv(COMPOSE_SCHEMA) as object);

const valid: unknown[] = [
  { services: { web: { image: "nginx" } } },
  { version: "3.9", name: "x", services: { web: { image: "nginx", ports: ["80:80", 443, { target: 80, published: "8080" }] } } },
  { services: { a: { image: "x", environment: { A: 1, B: null, C: true }, labels: ["a=b"], depends_on: { b: { condition: "service_healthy", required: false } } }, b: { image: "y" } } },
  { services: { a: { image: "x", env_file: ["a.env", { path: "b.env", required: false }], networks: { n: { aliases: ["x"] }, m: null } } }, networks: { n: null, m: { external: true } } },
  { services: { a: { image: "x", healthcheck: { test: ["CMD", "true"], interval: "10s" }, deploy: { replicas: 2, resources: { limits: { cpus: "0.5", memory: "1g", pids: 10 } } } } } },
  { services: { a: { image: "x", volumes: ["a:/a", { type: "tmpfs", target: "/t", tmpfs: { size: "64m" } }], secrets: ["s", { source: "s", target: "/x", mode: 256 }] } }, secrets: { s: { external: true } }, "x-any": { whatever: 1 } },
  { services: { a: { image: "x", ulimits: { nofile: { soft: 1, hard: 2 }, nproc: 3 }, extra_hosts: { "a.b": "1.2.3.4" } } } },
];

const invalid: unknown[] = [
  { services: { web: { imag: "nginx" } } },
  { services: { web: { image: 3 } } },
  { services: { web: { image: "x", ports: 80 } } },
  { services: { web: { image: "x", ports: [true] } } },
  { services: { web: { image: "x", ports: [{ target: "http" }] } } },
  { services: { web: { image: "x", depends_on: { db: {} } } } },
  { services: { web: { image: "x", depends_on: { db: { condition: "whenever" } } } } },
  { services: { web: { image: "x", pull_policy: "sometimes" } } },
  { services: { web: { image: "x", environment: ["A=1", "A=1"] } } },
  { services: { web: { image: "x", healthcheck: { test: ["CMD"], bogus: 1 } } } },
  { services: { "bad name!": { image: "x" } } },
  { services: { web: { image: "x" } }, volumez: {} },
  { services: { web: { image: "x", env_file: [{ required: true }] } } },
  { services: { web: { image: "x", ulimits: { nofile: { soft: 1 } } } } },
  { services: { web: { image: "x", deploy: { resources: { limits: { gpus: 1 } } } } } },
];

describe("the loader's schema validator agrees with ajv", () => {
  it.each(valid.map((d, i) => [i, d]))("valid document %i", (_, doc) => {
    expect(ajvValidate(doc)).toBe(true);
    expect(validateCompose(doc)).toEqual([]);
  });

  it.each(invalid.map((d, i) => [i, d]))("invalid document %i", (_, doc) => {
    expect(ajvValidate(doc)).toBe(false);
    expect(validateCompose(doc).length).toBeGreaterThan(0);
  });

  it("reports where, not just that", () => {
    expect(validateCompose({ services: { web: { image: "x", ports: [{ target: "http" }] } } })).toEqual([{ path: ["services", "web", "ports", 0, "target"], message: "must be an integer" }]);
    expect(validateCompose({ services: { web: { image: "x", environment: ["A=1", "A=1"] } } })).toEqual([
      { path: ["services", "web", "environment", 1], message: "repeats item 0 (items must be unique)" },
    ]);
  });
});
