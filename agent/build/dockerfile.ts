// Dockerfile parsing for the legacy (non-BuildKit) builder, following the
// rules of Docker's parser (moby/buildkit frontend/dockerfile/parser and
// instructions) and its shell lexer (frontend/dockerfile/shell). Heredocs are
// BuildKit-only and not supported here, as in the legacy builder.

import { AgentError } from "../errors";

export class DockerfileError extends AgentError<"INVALID"> {
  override name = "DockerfileError";
  constructor(
    readonly line: number,
    message: string,
  ) {
    super("INVALID", message);
  }
}

/** An error of the shell lexer ($VAR expansion, quotes); Docker's wording. */
export class ShellExpansionError extends AgentError<"INVALID"> {
  override name = "ShellExpansionError";
  constructor(message: string) {
    super("INVALID", message);
  }
}

export type Keyword =
  | "FROM"
  | "RUN"
  | "CMD"
  | "LABEL"
  | "MAINTAINER"
  | "EXPOSE"
  | "ENV"
  | "ADD"
  | "COPY"
  | "ENTRYPOINT"
  | "VOLUME"
  | "USER"
  | "WORKDIR"
  | "ARG"
  | "ONBUILD"
  | "STOPSIGNAL"
  | "HEALTHCHECK"
  | "SHELL";

const KEYWORDS: ReadonlySet<string> = new Set<Keyword>([
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "MAINTAINER",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "ONBUILD",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);

export interface Instruction {
  keyword: Keyword;
  /** the arguments text after the keyword and its --flags, continuations joined (with the escape char + newline removed), trimmed */
  args: string;
  /** --name=value flags before the arguments (e.g. {from: "builder", chown: "1000:1000"}); boolean flags get "true" */
  flags: Record<string, string>;
  /** exec (JSON array of strings) form, or null for shell form (only for RUN, CMD, ENTRYPOINT, SHELL, COPY/ADD/VOLUME where JSON form is allowed; for HEALTHCHECK CMD [...] the array after CMD) */
  json: string[] | null;
  /** 1-based line where the instruction starts */
  line: number;
  /** the instruction as written, continuations joined into one line, for "Step n/m : <original>" */
  original: string;
}

export interface Stage {
  index: number;
  name: string | null;
  /** the FROM image reference as written (unexpanded) */
  from: string;
  fromInstruction: Instruction;
  instructions: Instruction[] /* after FROM */;
}

export interface ParsedDockerfile {
  escape: "\\" | "`";
  /** ARGs before the first FROM; values as written (unexpanded, quotes kept): expand them with expandWord */
  globalArgs: { name: string; value: string | null }[];
  stages: Stage[];
  /** every instruction in order, FROMs and global ARGs included */
  all: Instruction[];
}

// ---------------------------------------------------------------------------
// character classes (Go's unicode.IsSpace / IsLetter / IsDigit)

const isSpace = (ch: string): boolean => /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
const isLetter = (ch: string): boolean => /^\p{L}$/u.test(ch);
const isDigit = (ch: string): boolean => /^\p{Nd}$/u.test(ch);
const trimLeftSpace = (s: string): string => s.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/, "");
const trimSpace = (s: string): string =>
  trimLeftSpace(s).replace(/[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/, "");
/** the parser's reWhitespace: [\t\v\f\r ]+ */
const RE_WS = /[\t\v\f\r ]+/;
const goQuote = (s: string): string => JSON.stringify(s);

// ---------------------------------------------------------------------------
// shell lexer (ProcessWord / ProcessWords)

class Words {
  private word = "";
  private words: string[] = [];
  private inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.word.length !== 0) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else if (!isSpace(ch)) {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  getWords(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes = false;

  constructor(
    source: string,
    private readonly env: Record<string, string>,
    private readonly escape: string,
  ) {
    this.chars = Array.from(source);
  }

  private peek(): string | null {
    return this.pos < this.chars.length ? this.chars[this.pos] : null;
  }
  private next(): string | null {
    return this.pos < this.chars.length ? this.chars[this.pos++] : null;
  }
  private getEnv(name: string): [string, boolean] {
    return Object.hasOwn(this.env, name) ? [this.env[name], true] : ["", false];
  }

  process(): { result: string; words: string[] } {
    return this.stopOn(null, false);
  }

  private stopOn(stop: string | null, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = "";
      const words = new Words();
      while (this.peek() !== null) {
        let ch = this.peek() as string;
        if (stop !== null && ch === stop) {
          this.next();
          return { result, words: words.getWords() };
        }
        if (ch === "$") {
          const tmp = this.dollar();
          result += tmp;
          words.addString(tmp);
        } else if (ch === "'") {
          const tmp = this.singleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else if (ch === '"') {
          const tmp = this.doubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          ch = this.next() as string;
          if (ch === this.escape) {
            if (this.rawEscapes) {
              words.addRawChar(ch);
              result += ch;
            }
            const escaped = this.next();
            if (escaped === null) break;
            ch = escaped;
            words.addRawChar(ch);
          } else {
            words.addChar(ch);
          }
          result += ch;
        }
      }
      if (stop !== null) throw new ShellExpansionError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.getWords() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuote(): string {
    this.next();
    let result = "";
    for (;;) {
      const ch = this.next();
      if (ch === null) throw new ShellExpansionError("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") return result;
      result += ch;
    }
  }

  private doubleQuote(): string {
    this.next();
    let result = "";
    for (;;) {
      const p = this.peek();
      if (p === null) throw new ShellExpansionError("unexpected end of statement while looking for matching double-quote");
      if (p === '"') {
        this.next();
        return result;
      }
      if (p === "$") {
        result += this.dollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const n = this.peek();
        if (n === null) continue; // an escape at the end of the word is dropped
        if (n === '"' || n === "$" || n === this.escape) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private name(): string {
    let name = "";
    while (this.peek() !== null) {
      const ch = this.peek() as string;
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== null && isDigit(this.peek() as string)) name += this.next();
        return name;
      }
      if (name.length === 0 && "@*#?-$!0".includes(ch)) {
        this.next();
        return ch;
      }
      if (!isLetter(ch) && !isDigit(ch) && ch !== "_") break;
      name += this.next();
    }
    return name;
  }

  private dollar(): string {
    this.next(); // $
    if (this.peek() !== "{") {
      const name = this.name();
      if (name === "") return "$";
      return this.getEnv(name)[0];
    }
    this.next(); // {
    const first = this.peek();
    if (first === null) throw new ShellExpansionError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") throw new ShellExpansionError("syntax error: bad substitution");
    const name = this.name();
    let ch = this.next();
    if (ch === null) throw new ShellExpansionError("syntax error: missing '}'");
    let chs = ch;
    let nullIsUnset = false;
    switch (ch) {
      case "}":
        return this.getEnv(name)[0];
      case ":":
      case "+":
      case "-":
      case "?":
      case "#":
      case "%": {
        if (ch === ":") {
          nullIsUnset = true;
          ch = this.next();
          if (ch === null) throw new ShellExpansionError("syntax error: missing '}'");
          chs += ch;
        }
        let word: string;
        try {
          word = this.stopOn("}", ch === "#" || ch === "%").result;
        } catch (e) {
          if (this.peek() === null) throw new ShellExpansionError("syntax error: missing '}'");
          throw e;
        }
        const [value, set] = this.getEnv(name);
        switch (ch) {
          case "-":
            return !set || (nullIsUnset && value === "") ? word : value;
          case "+":
            return !set || (nullIsUnset && value === "") ? "" : word;
          case "?":
            if (!set) throw new ShellExpansionError(`${name}: ${word !== "" ? word : "is not allowed to be unset"}`);
            if (nullIsUnset && value === "") throw new ShellExpansionError(`${name}: ${word !== "" ? word : "is not allowed to be empty"}`);
            return value;
          case "%":
          case "#": {
            let greedy = false;
            if (word.length > 0 && word[0] === ch) {
              greedy = true;
              word = word.slice(1);
            }
            return ch === "%" ? trimSuffix(word, value, greedy) : trimPrefix(word, value, greedy);
          }
          default:
            throw new ShellExpansionError(`unsupported modifier (${chs}) in substitution`);
        }
      }
      case "/": {
        const replaceAll = this.peek() === "/";
        if (replaceAll) this.next();
        let pattern: string;
        try {
          pattern = this.stopOn("/", true).result;
        } catch (e) {
          if (this.peek() === null) throw new ShellExpansionError("syntax error: missing '/' in ${}");
          throw e;
        }
        let replacement: string;
        try {
          replacement = this.stopOn("}", true).result;
        } catch (e) {
          if (this.peek() === null) throw new ShellExpansionError("syntax error: missing '}'");
          throw e;
        }
        const value = this.getEnv(name)[0];
        const re = shellPatternToRegex(pattern, true, false, replaceAll);
        return value.replace(re, () => replacement);
      }
      default:
        throw new ShellExpansionError(`unsupported modifier (${chs}) in substitution`);
    }
  }
}

/** ${var#pattern} patterns: `*` (shortest or longest), `?`, `\` escapes of `*`, `?`, `\`; no bracket expressions. */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? "^" : "";
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i];
    if (tok === "*") {
      out += greedy ? "[^\\n]*" : "[^\\n]*?"; // Go's "." does not match a newline
      continue;
    }
    if (tok === "?") {
      out += "[^\\n]";
      continue;
    }
    if (tok === "\\") {
      const n = chars[i + 1];
      if (n === "}" || n === "/") continue;
      i++;
      tok = chars[i];
      if (tok !== "*" && tok !== "?" && tok !== "\\") {
        throw new ShellExpansionError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${tok ?? ""}'`);
      }
      out += "\\" + tok;
      continue;
    }
    if ("[]{}.+()|^$".includes(tok)) out += "\\";
    out += tok;
  }
  return new RegExp(out, global ? "gu" : "u");
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out: string[] = new Array(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const outIdx = last - i;
    if (runes[i] === "\\" && i !== last) {
      out[outIdx - 1] = runes[i];
      out[outIdx] = runes[i + 1];
      i += 2;
    } else {
      out[outIdx] = runes[i];
      i++;
    }
  }
  return out.join("");
}

const reverseString = (s: string): string => Array.from(s).reverse().join("");

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

function lex(word: string, env: Record<string, string>, escape: string): { result: string; words: string[] } {
  try {
    return new Lexer(word, env, escape).process();
  } catch (e) {
    if (e instanceof ShellExpansionError) throw new ShellExpansionError(`failed to process ${goQuote(word)}: ${e.message}`);
    throw e;
  }
}

/** Shell-style word expansion as Docker's builder does it: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alt}, ${VAR+alt}, escapes with the escape char, single quotes literal, double quotes allow expansion; unknown variables expand to "". */
export function expandWord(word: string, env: Record<string, string>, escape = "\\"): string {
  return lex(word, env, escape).result;
}

/** Splits into words like Docker's ProcessWords (quotes and escapes removed, variables expanded), for COPY/ADD/EXPOSE/VOLUME/USER/WORKDIR/STOPSIGNAL arguments. */
export function expandWords(text: string, env: Record<string, string>, escape = "\\"): string[] {
  return lex(text, env, escape).words;
}

// ---------------------------------------------------------------------------
// parser-level word splitting (quotes and escapes kept)

/** The parser's parseWords: splits on whitespace outside quotes, keeping quotes and escapes in the words. */
function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= chars.length; pos++) {
    const atEnd = pos === chars.length;
    let ch = atEnd ? "" : chars[pos];
    if (phase === "spaces") {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      phase = "word";
    }
    if (atEnd) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // an escape at the end of the line is dropped
        word += ch;
        pos++;
        ch = chars[pos];
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) phase = "word";
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = "word";
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos];
    }
    word += ch;
  }
  return words;
}

function splitWhitespace(rest: string): string[] {
  return rest === "" ? [] : rest.split(RE_WS);
}

/** ENV/LABEL/ARG key=value parsing: "a=1 b='x y' c=\"$X\"" → [["a","1"],["b","x y"],["c", expanded]]; the legacy "ENV key value with spaces" form (one pair, rest of line is the value); ARG "name" without "=" → [["name", null]]. Values (and names, as Docker does) are expanded with env. */
export function parseKeyValues(
  text: string,
  env: Record<string, string>,
  options: { allowLegacy: boolean; allowNoValue: boolean; keyword?: string },
  escape = "\\",
): [string, string | null][] {
  const keyword = options.keyword ?? (options.allowNoValue ? "ARG" : "ENV");
  const rest = trimSpace(text);
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (options.allowLegacy && !words[0].includes("=")) {
    const m = /^([^\t\v\f\r ]*)[\t\v\f\r ]+([^]*)$/.exec(rest);
    if (!m) throw new ShellExpansionError(`${keyword} must have two arguments`);
    return [[expandWord(m[1], env, escape), expandWord(m[2], env, escape)]];
  }
  const out: [string, string | null][] = [];
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq < 0) {
      if (!options.allowNoValue) {
        throw new ShellExpansionError(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
      }
      out.push([expandWord(word, env, escape), null]);
      continue;
    }
    if (eq === 0) throw new ShellExpansionError(`${keyword} names can not be blank`);
    out.push([expandWord(word.slice(0, eq), env, escape), expandWord(word.slice(eq + 1), env, escape)]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// instruction parsing

/** extractBuilderFlags: leading --words (quotes and backslashes handled) and the rest of the line. */
function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const atEnd = pos === line.length;
    let ch = atEnd ? "" : line[pos];
    if (phase === "spaces") {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      if (ch !== "-" || pos + 1 === line.length || line[pos + 1] !== "-") return { rest: line.slice(pos), flags: words };
      phase = "word";
    }
    if (atEnd) {
      if (word !== "--" && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (word === "--") return { rest: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
      if (ch === "\\") {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line[pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = "word";
      continue;
    }
    if (ch === "\\") {
      if (pos + 1 === line.length) {
        phase = "word";
        continue;
      }
      pos++;
      ch = line[pos];
    }
    word += ch;
  }
  return { rest: "", flags: words };
}

type FlagType = "string" | "strings" | "bool";
const FLAG_DEFS: Partial<Record<Keyword, Record<string, FlagType>>> = {
  FROM: { platform: "string" },
  COPY: { chown: "string", from: "string", chmod: "string", link: "bool", parents: "bool", exclude: "strings" },
  ADD: {
    chown: "string",
    chmod: "string",
    checksum: "string",
    link: "bool",
    "keep-git-dir": "bool",
    unpack: "bool",
    exclude: "strings",
  },
  // BuildKit-only RUN flags: parsed here so the builder can refuse them with Docker's message.
  RUN: { mount: "strings", network: "string", security: "string", device: "strings" },
  HEALTHCHECK: { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" },
};
/** Instructions whose Docker parser never looks at flags (they are ignored). */
const FLAGS_IGNORED = new Set<Keyword>(["STOPSIGNAL", "ARG"]);

function parseFlags(keyword: Keyword, raw: string[], skipValidation: boolean): Record<string, string> {
  const defs = FLAG_DEFS[keyword] ?? {};
  const flags: Record<string, string> = {};
  const used = new Set<string>();
  for (let arg of raw) {
    if (!arg.startsWith("--")) throw new Error(`arg should start with -- : ${arg}`);
    if (arg === "--") break;
    arg = arg.slice(2);
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = eq >= 0 ? arg.slice(eq + 1) : "";
    if (skipValidation) {
      flags[name] = eq >= 0 ? value : "true";
      continue;
    }
    const type = Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (!type) throw new Error(`unknown flag: ${name}`);
    if (used.has(name) && type !== "strings") throw new Error(`duplicate flag specified: ${name}`);
    used.add(name);
    if (type === "bool") {
      if (eq >= 0 && value === "") throw new Error(`missing a value on flag: ${name}`);
      const v = value.toLowerCase();
      if (v === "true" || v === "") flags[name] = "true";
      else if (v === "false") flags[name] = "false";
      else throw new Error(`expecting boolean value for flag ${name}, not: ${value}`);
    } else {
      if (eq < 0) throw new Error(`missing a value on flag: ${name}`);
      flags[name] = value;
    }
  }
  return flags;
}

const NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only";

/** parseJSON: a JSON array of strings, or null when `rest` is not valid JSON (shell form). */
function parseJSONArray(rest: string): string[] | null {
  const s = trimLeftSpace(rest);
  if (!s.startsWith("[")) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  for (const v of parsed) if (typeof v !== "string") throw new Error(NOT_STRING_ARRAY);
  return parsed as string[];
}

interface Node {
  keyword: Keyword | null;
  value: string; // keyword as written
  flagWords: string[];
  args: string;
  /** the parser's argument nodes (for argument count checks) */
  argv: string[];
  json: string[] | null;
  original: string;
}

/** newNodeFromLine: splitCommand + the per-instruction line parser. Errors here are syntax errors. */
function newNode(line: string, escape: string): Node {
  const trimmed = trimSpace(line);
  const m = /^([^\t\v\f\r ]*)(?:[\t\v\f\r ]+([^]*))?$/.exec(trimmed);
  const cmd = m ? m[1] : trimmed;
  let flagWords: string[] = [];
  let args = "";
  if (m && m[2] !== undefined) {
    const ex = extractBuilderFlags(m[2]);
    flagWords = ex.flags;
    args = trimSpace(ex.rest);
  }
  const upper = cmd.toUpperCase();
  const keyword = KEYWORDS.has(upper) ? (upper as Keyword) : null;
  const node: Node = { keyword, value: cmd, flagWords, args, argv: [], json: null, original: trimmed };
  switch (keyword) {
    case "ADD":
    case "COPY":
    case "VOLUME": {
      const json = parseJSONArray(args);
      if (json) {
        node.json = json;
        node.argv = json;
      } else node.argv = splitWhitespace(args);
      break;
    }
    case "CMD":
    case "ENTRYPOINT":
    case "RUN":
    case "SHELL": {
      if (args === "") break;
      const json = parseJSONArray(args);
      if (json) {
        node.json = json;
        node.argv = json;
      } else node.argv = [args];
      break;
    }
    case "ARG":
      node.argv = parseWords(args, escape);
      break;
    case "ENV":
    case "LABEL": {
      const words = parseWords(args, escape);
      if (words.length === 0) break;
      if (!words[0].includes("=")) {
        const parts = /^([^\t\v\f\r ]*)[\t\v\f\r ]+([^]*)$/.exec(args);
        if (!parts) throw new Error(`${keyword} must have two arguments`);
        node.argv = [parts[1], parts[2]];
        break;
      }
      for (const word of words) {
        const eq = word.indexOf("=");
        if (eq < 0) throw new Error(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
        node.argv.push(word.slice(0, eq), word.slice(eq + 1));
      }
      break;
    }
    case "EXPOSE":
    case "FROM":
      node.argv = splitWhitespace(args);
      break;
    case "HEALTHCHECK": {
      if (args === "") break;
      const sep = /^[^\t\n\v\f\r ]*/.exec(args)![0];
      const restCmd = trimLeftSpace(args.slice(sep.length));
      node.argv = [sep];
      if (restCmd !== "") {
        const json = parseJSONArray(restCmd);
        if (json) {
          node.json = json;
          node.argv.push(...json);
        } else node.argv.push(restCmd);
      }
      break;
    }
    case "MAINTAINER":
    case "STOPSIGNAL":
    case "USER":
    case "WORKDIR":
      if (args !== "") node.argv = [args];
      break;
    case "ONBUILD": {
      if (args === "") break;
      const inner = newNode(args, escape);
      node.argv = [inner.value, ...inner.argv];
      break;
    }
    default:
      break;
  }
  return node;
}

const atLeastOne = (k: string) => new Error(`${k} requires at least one argument`);
const exactlyOne = (k: string) => new Error(`${k} requires exactly one argument`);
const noDestination = (k: string) =>
  new Error(`${k} requires at least two arguments, but only one was provided. Destination could not be determined`);
const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** The instructions package checks (argument counts, flags, FROM ... AS name). */
function checkInstruction(node: Node): { flags: Record<string, string>; stageName: string | null } {
  const k = node.keyword;
  if (!k) throw new Error(`unknown instruction: ${node.value}`);
  const a = node.argv;
  let stageName: string | null = null;
  switch (k) {
    case "ENV":
    case "LABEL":
      if (a.length === 0) throw atLeastOne(k);
      for (let i = 0; i < a.length; i += 2) if (a[i] === "") throw new Error(`${k} names can not be blank`);
      break;
    case "MAINTAINER":
    case "WORKDIR":
    case "USER":
    case "STOPSIGNAL":
      if (a.length !== 1) throw exactlyOne(k);
      break;
    case "ADD":
    case "COPY":
      if (a.length < 2) throw noDestination(k);
      break;
    case "FROM":
      if (a.length === 3 && a[1].toLowerCase() === "as") {
        stageName = a[2].toLowerCase();
        if (!VALID_STAGE_NAME.test(stageName)) {
          throw new Error(`invalid name for build stage: ${goQuote(a[2])}, name can't start with a number or contain symbols`);
        }
      } else if (a.length !== 1) {
        throw new Error("FROM requires either one or three arguments");
      }
      break;
    case "ONBUILD": {
      if (a.length === 0) throw atLeastOne(k);
      const trigger = a[0].trim().toUpperCase();
      if (trigger === "ONBUILD") throw new Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === "MAINTAINER" || trigger === "FROM") throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      break;
    }
    case "RUN":
      if (a.length === 0 && node.json === null) throw atLeastOne(k);
      break;
    case "HEALTHCHECK": {
      if (a.length === 0) throw atLeastOne(k);
      const typ = a[0].toUpperCase();
      if (typ === "NONE") {
        if (a.length !== 1) throw new Error("HEALTHCHECK NONE takes no arguments");
        return { flags: parseFlags(k, node.flagWords, true), stageName };
      }
      const flags = parseFlags(k, node.flagWords, false);
      if (typ !== "CMD") throw new Error(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
      if (a.length === 1) throw new Error("Missing command after HEALTHCHECK CMD");
      if (flags.retries !== undefined) {
        const n = Number(flags.retries);
        if (!/^[+-]?\d+$/.test(flags.retries)) throw new Error(`strconv.ParseInt: parsing ${goQuote(flags.retries)}: invalid syntax`);
        if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
      }
      return { flags, stageName };
    }
    case "EXPOSE":
    case "ARG":
      if (a.length === 0) throw atLeastOne(k);
      if (k === "ARG") for (const w of a) if (w.startsWith("=")) throw new Error("ARG names can not be blank");
      break;
    case "VOLUME":
      if (a.length === 0) throw atLeastOne(k);
      for (const v of a) if (v.trim() === "") throw new Error("VOLUME specified can not be an empty string");
      break;
    case "SHELL":
      if (a.length === 0) throw atLeastOne(k);
      if (node.json === null) throw new Error(`SHELL requires the arguments to be in JSON form`);
      break;
    case "CMD":
    case "ENTRYPOINT":
      break;
  }
  return { flags: parseFlags(k, node.flagWords, FLAGS_IGNORED.has(k)), stageName };
}

/** The raw (unexpanded) argument words of an instruction as Docker's parser splits them: the JSON array in exec form;
 * COPY/ADD/VOLUME/EXPOSE/FROM split on whitespace (each then expanded with expandWord, EXPOSE with expandWords);
 * RUN/CMD/ENTRYPOINT/USER/WORKDIR/STOPSIGNAL/MAINTAINER as one word; ARG words (quotes kept); ENV/LABEL key, value, key, value... */
export function argWords(inst: Instruction, escape = "\\"): string[] {
  return newNode(`${inst.keyword} ${inst.args}`, escape).argv;
}

// ---------------------------------------------------------------------------
// file-level parsing

const RE_DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;

export function parseDockerfile(text: string): ParsedDockerfile {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === "" && text.endsWith("\n")) lines.pop();

  let escape: "\\" | "`" = "\\";
  let continuation = /\\[ \t]*$/;
  let directivesDone = false;
  const seen = new Set<string>();
  const directive = (token: string, lineNo: number): void => {
    if (directivesDone) return;
    const m = RE_DIRECTIVE.exec(token);
    const k = m?.[1].toLowerCase();
    if (!m || (k !== "escape" && k !== "syntax")) {
      directivesDone = true;
      return;
    }
    if (seen.has(k)) throw new DockerfileError(lineNo, `only one ${k} parser directive can be used`);
    seen.add(k);
    if (k === "escape") {
      if (m[2] !== "`" && m[2] !== "\\") throw new DockerfileError(lineNo, `invalid escape token '${m[2]}' does not match \` or \\`);
      escape = m[2];
      continuation = escape === "`" ? /`[ \t]*$/ : /\\[ \t]*$/;
    }
  };
  const isComment = (raw: string) => trimLeftSpace(raw).startsWith("#");
  const trimComments = (s: string) => (s.startsWith("#") ? "" : s);
  const trimContinuation = (s: string): [string, boolean] =>
    continuation.test(s) ? [s.replace(continuation, ""), false] : [s, true];

  const all: Instruction[] = [];
  const stages: Stage[] = [];
  const globalArgs: ParsedDockerfile["globalArgs"] = [];
  let i = 0;
  while (i < lines.length) {
    const first = trimLeftSpace(lines[i]);
    directive(first, i + 1);
    i++;
    const startLine = i;
    let [line, eol] = trimContinuation(trimComments(first));
    if (eol && line === "") continue;
    while (!eol && i < lines.length) {
      const raw = lines[i];
      i++;
      if (isComment(raw)) continue;
      const processed = trimComments(raw);
      if (trimLeftSpace(processed) === "") continue; // empty continuation line
      const [cont, end] = trimContinuation(processed);
      line += cont;
      eol = end;
    }

    let node: Node;
    let checked: ReturnType<typeof checkInstruction>;
    try {
      node = newNode(line, escape);
      checked = checkInstruction(node);
    } catch (e) {
      if (e instanceof DockerfileError) throw e;
      throw new DockerfileError(startLine, `dockerfile parse error on line ${startLine}: ${(e as Error).message}`);
    }
    const keyword = node.keyword as Keyword;
    const inst: Instruction = {
      keyword,
      args: node.args,
      flags: checked.flags,
      json: node.json,
      line: startLine,
      original: node.original,
    };
    all.push(inst);
    if (keyword === "FROM") {
      stages.push({ index: stages.length, name: checked.stageName, from: node.argv[0], fromInstruction: inst, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== "ARG") throw new DockerfileError(startLine, "no build stage in current context");
      for (const w of node.argv) {
        const eq = w.indexOf("=");
        globalArgs.push(eq < 0 ? { name: w, value: null } : { name: w.slice(0, eq), value: w.slice(eq + 1) });
      }
    } else {
      stages[stages.length - 1].instructions.push(inst);
    }
  }
  if (all.length === 0) throw new DockerfileError(lines.length, "file with no instructions");
  if (stages.length === 0) throw new DockerfileError(lines.length, "No image was generated. Is your Dockerfile empty?");
  return { escape, globalArgs, stages, all };
}
