// Whatever is typed into the editor, loadStack answers (a model or problems)
// and never throws: it runs on every keystroke in the browser.

import { describe, expect, it } from "vitest";
import { loadStack } from "@/lib/compose/load";
import type { StackSource } from "@/lib/compose/model";

const SAMPLE = `name: shop
services:
  web:
    image: nginx:\${TAG:-1.27}
    ports: ["8080:80", {target: 443, published: 8443}]
    environment: {A: "1", B: \${B-x}}
    env_file: [{path: app.env, required: false}]
    volumes: [data:/data, /srv:/srv:ro]
    networks: {front: {aliases: [www]}}
    depends_on: {db: {condition: service_healthy}}
    healthcheck: {test: [CMD, "true"], interval: 5s}
    deploy: {replicas: 2, resources: {limits: {memory: 64m}}}
    secrets: [s]
    extends: {service: base}
  base:
    image: busybox
    profiles: [x]
  db:
    image: postgres
    networks: [front]
networks: {front: {}}
volumes: {data: {}}
secrets: {s: {external: true}}
`;

// A small deterministic generator (no Math.random: the same cases every run).
function* mutations(text: string, count: number): Generator<string> {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ["", " ", "\n", ":", "-", "[", "]", "{", "}", "${", "$", "&a", "*a", "null", "0", "'", '"', "\t", "<<: *a", "~"];
  for (let i = 0; i < count; i++) {
    let t = text;
    const edits = 1 + Math.floor(next() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * t.length);
      const del = Math.floor(next() * 6);
      t = t.slice(0, at) + pieces[Math.floor(next() * pieces.length)] + t.slice(at + del);
    }
    yield t;
  }
}

describe("loadStack never throws", () => {
  it("on 400 mutations of a full compose file", () => {
    for (const text of mutations(SAMPLE, 400)) {
      const r = loadStack({ files: [{ path: "compose.yaml", content: text }] }, { stackName: "s" });
      if (!r.ok) {
        expect(r.problems.length).toBeGreaterThan(0);
        for (const p of r.problems) expect(typeof p.message).toBe("string");
      }
    }
  });

  it("on malformed sources", () => {
    const odd = [
      { files: [] },
      { files: [{ path: "compose.yaml", content: "services:\n  web:\n" }] },
      { files: [{ path: "compose.yaml", content: "services: []\n" }] },
      { files: [{ path: "compose.yaml", content: "- a\n- b\n" }] },
      { files: [{ path: "compose.yaml", content: "services:\n  web: {image: x}\n---\nservices: {}\n" }] },
      { files: [{ path: "compose.yaml", content: 42 }] },
      { files: null },
      {},
    ] as unknown as StackSource[];
    for (const source of odd) {
      const r = loadStack(source, { stackName: "s" });
      expect(r.ok).toBe(false);
    }
  });
});
