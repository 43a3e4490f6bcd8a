import "server-only";
import { z } from "zod";

// Request bodies refuse unknown fields at every depth: a misspelt key
// (`readonly` for `readOnly`, `Secret` for `secret`) must not be dropped
// silently and leave the default in force. The shared schemas (the deploy
// spec, also used by the console and to re-parse stored specs) stay as they
// are; this walks the raw JSON alongside the schema and lists the keys the
// schema has no place for. It follows the input side of the schema (a pipe's
// input, a default's inner type), so transforms and defaults don't matter.

type Def = { type: string; [key: string]: unknown };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A path as the error messages write it: env[0].Secret. */
export function formatPath(path: (string | number)[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/** The object keys of `value` that `schema` would drop (or refuse), each as a path; at most `max`. */
export function unknownKeys(schema: z.ZodType, value: unknown, max = 20): (string | number)[][] {
  const found: (string | number)[][] = [];
  const walk = (s: z.ZodType, v: unknown, path: (string | number)[], depth: number) => {
    if (found.length >= max || depth > 64 || v === undefined || v === null) return;
    const def = defOf(s);
    switch (def.type) {
      case "object": {
        if (!isPlainObject(v)) return;
        const shape = (s as z.ZodObject).shape as Record<string, z.ZodType>;
        const catchall = def.catchall as z.ZodType | undefined;
        // A loose object (catchall unknown) or one with a catchall schema takes other keys on purpose.
        const refusesOthers = !catchall || defOf(catchall).type === "never";
        for (const [key, child] of Object.entries(v)) {
          if (Object.hasOwn(shape, key)) walk(shape[key]!, child, [...path, key], depth + 1);
          else if (refusesOthers) found.push([...path, key]);
          else walk(catchall, child, [...path, key], depth + 1);
          if (found.length >= max) return;
        }
        return;
      }
      case "array":
        if (Array.isArray(v)) v.forEach((item, i) => walk(def.element as z.ZodType, item, [...path, i], depth + 1));
        return;
      case "tuple": {
        if (!Array.isArray(v)) return;
        const items = def.items as z.ZodType[];
        v.forEach((item, i) => {
          const itemSchema = items[i] ?? (def.rest as z.ZodType | null | undefined);
          if (itemSchema) walk(itemSchema, item, [...path, i], depth + 1);
        });
        return;
      }
      case "record":
        if (isPlainObject(v)) for (const [key, child] of Object.entries(v)) walk(def.valueType as z.ZodType, child, [...path, key], depth + 1);
        return;
      case "union": {
        const options = def.options as z.ZodType[];
        const discriminator = def.discriminator as string | undefined;
        // The option the value is meant for: the one its discriminator picks, else the first that accepts it.
        let chosen: z.ZodType | undefined;
        if (discriminator && isPlainObject(v)) {
          chosen = options.find((o) => {
            const field = (o as z.ZodObject).shape?.[discriminator] as z.ZodType | undefined;
            return field ? field.safeParse(v[discriminator]).success : false;
          });
        }
        chosen ??= options.find((o) => o.safeParse(v).success);
        if (chosen) walk(chosen, v, path, depth + 1);
        return;
      }
      case "intersection": {
        // Each side may know keys the other doesn't: unknown only if neither knows it.
        const right = new Set(unknownKeys(def.right as z.ZodType, v, max).map(formatPath));
        for (const p of unknownKeys(def.left as z.ZodType, v, max)) if (right.has(formatPath(p))) found.push([...path, ...p]);
        return;
      }
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "nonoptional":
      case "readonly":
      case "catch":
        walk(def.innerType as z.ZodType, v, path, depth + 1);
        return;
      case "pipe":
        walk(def.in as z.ZodType, v, path, depth + 1);
        return;
      case "lazy":
        walk((def.getter as () => z.ZodType)(), v, path, depth + 1);
        return;
      default:
        return;
    }
  };
  walk(schema, value, [], 0);
  return found;
}

/**
 * Parses a request body: unknown keys anywhere are refused, each named by its
 * path (env[0].Secret), alongside the schema's own issues.
 */
export function parseBodyStrictly<S extends z.ZodType>(
  schema: S,
  value: unknown,
): { success: true; data: z.output<S> } | { success: false; unknown: string[]; error: z.ZodError | null } {
  const unknown = unknownKeys(schema, value);
  const parsed = schema.safeParse(value);
  if (!unknown.length && parsed.success) return { success: true, data: parsed.data };
  // A strict object's own unrecognized-keys issue says the same as the unknown paths.
  const issues = parsed.success ? [] : parsed.error.issues.filter((i) => !(i.code === "unrecognized_keys" && unknown.length));
  return { success: false, unknown: unknown.map((p) => `${formatPath(p)}: unknown field`), error: issues.length ? new z.ZodError(issues) : null };
}
