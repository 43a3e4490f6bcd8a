// The .env / env_file format as docker compose reads it: KEY=VALUE lines,
// optional `export `, # comments, 'single quotes' (literal), "double quotes"
// (escapes, may span lines, interpolated), unquoted values (trimmed, inline
// " #" comment cut, interpolated). ${VAR} sees the file's earlier variables,
// then `lookup` (the environment).

import { interpolate, type Lookup } from "./interpolate";

export interface DotenvProblem {
  line: number;
  message: string;
}

export type DotenvResult = { ok: true; vars: Record<string, string>; order: string[] } | { ok: false; problems: DotenvProblem[] };

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseDotenv(content: string, lookup: Lookup = () => undefined, options: { preferLookup?: boolean } = {}): DotenvResult {
  const text = content.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const vars: Record<string, string> = {};
  const order: string[] = [];
  const problems: DotenvProblem[] = [];
  // ${VAR} inside the file: the file's own earlier values, or the environment first when it wins (.env).
  const scoped: Lookup = (name) =>
    options.preferLookup ? (lookup(name) ?? (Object.hasOwn(vars, name) ? vars[name] : undefined)) : Object.hasOwn(vars, name) ? vars[name] : lookup(name);
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const end = text.indexOf("\n", i) < 0 ? text.length : text.indexOf("\n", i);
    const raw = text.slice(i, end);
    const startLine = line;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      i = end + 1;
      line++;
      continue;
    }
    const m = /^\s*(?:export\s+)?([^=\s:]+)\s*(=|:)?[ \t]*/.exec(raw);
    const key = m?.[1] ?? "";
    if (!m || !KEY.test(key)) {
      problems.push({ line: startLine, message: `line ${startLine}: "${trimmed.slice(0, 40)}" is not KEY=VALUE` });
      i = end + 1;
      line++;
      continue;
    }
    if (!m[2]) {
      // A bare KEY: its value comes from the environment, if it has one.
      if (raw.slice(m[0].length).trim() !== "" && !raw.slice(m[0].length).trim().startsWith("#")) {
        problems.push({ line: startLine, message: `line ${startLine}: "${trimmed.slice(0, 40)}" is not KEY=VALUE` });
      } else {
        const v = lookup(key);
        if (v !== undefined) set(key, v);
      }
      i = end + 1;
      line++;
      continue;
    }
    const valueStart = i + m[0].length;
    const quote = text[valueStart];
    if (quote === "'" || quote === '"') {
      const close = findClosingQuote(text, valueStart + 1, quote);
      if (close < 0) {
        problems.push({ line: startLine, message: `line ${startLine}: ${key}'s value opens a ${quote === '"' ? "double" : "single"} quote that is never closed` });
        break;
      }
      const body = text.slice(valueStart + 1, close);
      const after = text.indexOf("\n", close) < 0 ? text.length : text.indexOf("\n", close);
      const tail = text.slice(close + 1, after).trim();
      if (tail !== "" && !tail.startsWith("#")) {
        problems.push({ line: startLine, message: `line ${startLine}: unexpected "${tail.slice(0, 20)}" after ${key}'s quoted value` });
      } else if (quote === "'") set(key, body);
      else {
        const r = interpolate(unescapeDouble(body), scoped);
        if (r.ok) set(key, r.value);
        else problems.push({ line: startLine, message: `line ${startLine}: ${key}: ${r.kind === "required" ? `${r.variable} ${r.message}` : r.message}` });
      }
      line += countNewlines(text.slice(i, after)) + 1;
      i = after + 1;
      continue;
    }
    let value = raw.slice(m[0].length);
    const comment = /\s#/.exec(value);
    if (comment) value = value.slice(0, comment.index);
    value = value.trim();
    const r = interpolate(value, scoped);
    if (r.ok) set(key, r.value);
    else problems.push({ line: startLine, message: `line ${startLine}: ${key}: ${r.kind === "required" ? `${r.variable} ${r.message}` : r.message}` });
    i = end + 1;
    line++;
  }
  return problems.length ? { ok: false, problems } : { ok: true, vars, order };

  function set(key: string, value: string) {
    if (!Object.hasOwn(vars, key)) order.push(key);
    vars[key] = value;
  }
}

function findClosingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

function unescapeDouble(body: string): string {
  // \$ stays escaped for interpolation ($$); the rest as a shell's double quotes.
  return body.replace(/\\([\\"nrt$])/g, (_, c: string) => ({ n: "\n", r: "\r", t: "\t", $: "$$" })[c] ?? c);
}

function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === "\n") n++;
  return n;
}
