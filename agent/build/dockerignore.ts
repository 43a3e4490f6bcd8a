// .dockerignore with Docker's rules: moby/buildkit dockerignore.ReadAll for the
// file format and moby/patternmatcher MatchesOrParentMatches for matching.
import path from "node:path";

export interface IgnoreMatcher {
  /** path relative to the context root, "/"-separated, no leading "./" */
  ignores(relPath: string): boolean;
  patterns: string[];
}

/** Go's filepath.Clean for "/"-separated paths. */
function clean(p: string): string {
  if (p === "") return ".";
  let out = path.posix.normalize(p);
  if (out.length > 1 && out.endsWith("/")) out = out.slice(0, -1);
  return out;
}

type MatchType = "exact" | "prefix" | "suffix" | "regexp";

interface Pattern {
  exclusion: boolean;
  cleaned: string;
  type: MatchType;
  regexp: RegExp | null;
}

const REGEXP_SPECIAL = ".+()|{}$";

function compile(cleaned: string): { type: MatchType; regexp: RegExp | null } {
  const chars = Array.from(cleaned);
  let re = "^";
  let type: MatchType = "exact";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === "*") {
      if (chars[i + 1] === "*") {
        const first = i === 0;
        i++;
        if (chars[i + 1] === "/") i++; // treat "**/" as "**"
        if (i + 1 >= chars.length) {
          // "**" at the end: everything below
          if (type === "exact") type = "prefix";
          else {
            re += "[^]*";
            type = "regexp";
          }
        } else {
          re += "(?:[^]*/)?";
          type = "regexp";
        }
        if (first) type = "suffix";
      } else {
        re += "[^/]*";
        type = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      type = "regexp";
    } else if (REGEXP_SPECIAL.includes(ch)) {
      re += "\\" + ch;
    } else if (ch === "\\") {
      // escape the next character (a trailing "\\" stays a literal backslash)
      re += i + 1 < chars.length ? "\\" + chars[++i] : "\\\\";
    } else {
      // "[" and "]" pass through as a character class, everything else literally
      if (ch === "[" || ch === "]") type = "regexp";
      re += ch;
    }
  }
  if (type !== "regexp") return { type, regexp: null };
  re += "$";
  try {
    return { type, regexp: new RegExp(re) };
  } catch {
    throw new Error(`syntax error in pattern: ${cleaned}`);
  }
}

function matchPattern(p: Pattern, file: string): boolean {
  switch (p.type) {
    case "exact":
      return file === p.cleaned;
    case "prefix":
      return file.startsWith(p.cleaned.slice(0, -2));
    case "suffix": {
      const suffix = p.cleaned.slice(2);
      if (file.endsWith(suffix)) return true;
      // "**/foo" matches "foo"
      return suffix.startsWith("/") && file === suffix.slice(1);
    }
    case "regexp":
      return (p.regexp as RegExp).test(file);
  }
}

/** dockerignore.ReadAll: the pattern list as Docker reads it. */
function readPatterns(text: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: string[] = [];
  for (let line of text.split("\n")) {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.startsWith("#")) continue; // comments are recognised before trimming
    let pattern = line.trim();
    if (pattern === "") continue;
    const invert = pattern[0] === "!";
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = clean(pattern);
      if (pattern.length > 1 && pattern[0] === "/") pattern = pattern.slice(1);
    }
    out.push(invert ? "!" + pattern : pattern);
  }
  return out;
}

export function parseDockerignore(text: string): IgnoreMatcher {
  const patterns = readPatterns(text);
  const compiled: Pattern[] = [];
  for (const raw of patterns) {
    let p = clean(raw.trim());
    let exclusion = false;
    if (p[0] === "!") {
      if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    compiled.push({ exclusion, cleaned: p, ...compile(p) });
  }

  return {
    patterns,
    ignores(relPath: string): boolean {
      const file = clean(relPath.replace(/^\.\/+/, ""));
      const parent = path.posix.dirname(file);
      const parentDirs = parent.split("/");
      let matched = false;
      for (const p of compiled) {
        // an inclusion only matters while unmatched, an exclusion only once matched
        if (p.exclusion !== matched) continue;
        let match = matchPattern(p, file);
        if (!match && parent !== ".") {
          for (let i = 0; i < parentDirs.length && !match; i++) {
            match = matchPattern(p, parentDirs.slice(0, i + 1).join("/"));
          }
        }
        if (match) matched = !p.exclusion;
      }
      return matched;
    },
  };
}
