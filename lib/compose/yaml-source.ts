// YAML parsing that keeps where every node is, so a problem found later
// (schema, interpolation, Berth's refusals) can name its file, line and column.

import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type ScalarTag } from "yaml";
import type { StackProblem } from "./model";
import { formatPath, type PathSegment } from "./path";

/** Limits that keep a hostile file from exhausting the parser (and the browser tab validating as you type). */
export const LIMITS = {
  fileBytes: 1024 * 1024,
  files: 50,
  services: 200,
  /** Aliases a document may expand (yaml's own resource-exhaustion guard, "billion laughs"). */
  aliases: 100,
} as const;

export interface ParsedFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** The document as plain data (aliases and `<<` merge keys expanded). */
  value: unknown;
}

// YAML 1.1's octal ints (`mode: 0440`), as PyYAML and go-yaml read compose
// files; everything else follows YAML 1.2's core schema (`no` stays a string).
const octal11: ScalarTag = {
  identify: (value) => typeof value === "number",
  default: true,
  tag: "tag:yaml.org,2002:int",
  format: "OCT",
  test: /^0[0-7]+$/,
  resolve: (source) => parseInt(source, 8),
};

export function parseYamlFile(file: string, content: string): { ok: true; parsed: ParsedFile } | { ok: false; problems: StackProblem[] } {
  const bytes = new TextEncoder().encode(content).length;
  if (bytes > LIMITS.fileBytes) {
    return { ok: false, problems: [{ file, path: "", message: `${file} is ${bytes} bytes; a compose file may have at most ${LIMITS.fileBytes} bytes (1 MiB)` }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(content, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    customTags: (tags) => [octal11, ...tags],
  });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return { file, path: "", line: at.line, column: at.col, message: `YAML: ${firstLine(e.message)}` };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: LIMITS.aliases });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      problems: [
        {
          file,
          path: "",
          message: /alias/i.test(message)
            ? `${file} expands its YAML aliases too many times (at most ${LIMITS.aliases}): refused as a resource-exhaustion risk`
            : `YAML: ${firstLine(message)}`,
        },
      ],
    };
  }
  return { ok: true, parsed: { file, doc, lines, value } };
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/**
 * Where `path` is in the file: the deepest node of it that exists (a key when
 * the path ends at a mapping entry). Null when not even the first segment is there.
 */
export function locate(parsed: ParsedFile, path: readonly PathSegment[]): { line: number; column: number; exact: boolean } | null {
  let node: unknown = parsed.doc.contents;
  let at: number | null = null;
  let depth = 0;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(parsed.doc);
    let next: unknown;
    let keyAt: number | null = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyOf(p.key) === String(segment));
      if (pair) {
        next = pair.value;
        keyAt = (pair.key as Node | null)?.range?.[0] ?? null;
      }
    } else if (isSeq(node) && typeof segment === "number") {
      next = node.items[segment];
      keyAt = (next as Node | undefined)?.range?.[0] ?? null;
    }
    if (keyAt === null) break;
    at = keyAt;
    node = next;
    depth++;
  }
  if (at === null) return null;
  const pos = parsed.lines.linePos(at);
  return { line: pos.line, column: pos.col, exact: depth === path.length };
}

function keyOf(key: unknown): string | null {
  if (isScalar(key)) return String(key.value);
  return null;
}

/** A problem at `path` in `parsed`, located as precisely as the document allows. */
export function problemAt(parsed: ParsedFile | undefined, path: readonly PathSegment[], message: string): StackProblem {
  const where = parsed ? locate(parsed, path) : null;
  return {
    ...(parsed ? { file: parsed.file } : {}),
    path: formatPath(path),
    ...(where ? { line: where.line, column: where.column } : {}),
    message,
  };
}
