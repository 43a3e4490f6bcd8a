// Variable interpolation as the Compose Specification defines it:
// $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err},
// ${VAR:+alt}, ${VAR+alt}, and $$ for a literal $. Defaults, errors and
// alternatives may themselves hold ${...}; they are expanded only when used.

export type Lookup = (name: string) => string | undefined;

export type InterpolationResult =
  | { ok: true; value: string; unset: string[] }
  | { ok: false; kind: "required"; variable: string; message: string }
  | { ok: false; kind: "syntax"; message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export function interpolate(text: string, lookup: Lookup): InterpolationResult {
  const unset: string[] = [];
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
      continue;
    }
    if (next === "{") {
      const close = matchingBrace(text, dollar + 1);
      if (close < 0) return syntax(text, "a ${ without its closing }");
      const inner = text.slice(dollar + 2, close);
      const r = expandBraced(inner, lookup, unset);
      if (!r.ok) return r.kind === "syntax" ? syntax(text, r.message) : r;
      out += r.value;
      i = close + 1;
      continue;
    }
    const name = NAME.exec(text.slice(dollar + 1));
    if (!name) return syntax(text, "a $ not followed by a variable name (write $$ for a literal $)");
    const value = lookup(name[0]);
    if (value === undefined) unset.push(name[0]);
    out += value ?? "";
    i = dollar + 1 + name[0].length;
  }
  return { ok: true, value: out, unset };
}

function syntax(text: string, why: string): InterpolationResult {
  return { ok: false, kind: "syntax", message: `invalid interpolation in "${text.length > 80 ? `${text.slice(0, 77)}...` : text}": ${why}` };
}

/** The index of the } closing the { at `open`, counting nested ${ … }. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "$" && text[i + 1] === "$") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return -1;
}

type Expanded = { ok: true; value: string } | { ok: false; kind: "required"; variable: string; message: string } | { ok: false; kind: "syntax"; message: string };

function expandBraced(inner: string, lookup: Lookup, unset: string[]): Expanded {
  const name = NAME.exec(inner);
  if (!name) return { ok: false, kind: "syntax", message: `"\${${inner}}" does not start with a variable name` };
  const variable = name[0];
  const rest = inner.slice(variable.length);
  const value = lookup(variable);
  if (rest === "") {
    if (value === undefined) unset.push(variable);
    return { ok: true, value: value ?? "" };
  }
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest);
  if (!op) return { ok: false, kind: "syntax", message: `"\${${inner}}": expected :-, -, :?, ?, :+ or + after ${variable}` };
  const word = rest.slice(op[0].length);
  const colon = op[0].startsWith(":");
  const missing = value === undefined || (colon && value === "");
  const expandWord = (): Expanded => {
    const r = interpolate(word, lookup);
    if (!r.ok) return r;
    unset.push(...r.unset);
    return { ok: true, value: r.value };
  };
  switch (op[0].replace(":", "")) {
    case "-":
      return missing ? expandWord() : { ok: true, value: value! };
    case "?": {
      if (!missing) return { ok: true, value: value! };
      const r = expandWord();
      if (!r.ok) return r;
      const why = r.value || (colon ? "is required (unset or empty)" : "is required (unset)");
      return { ok: false, kind: "required", variable, message: why };
    }
    default:
      // "+": the alternative when set (and, with ":", not empty); else nothing.
      return missing ? { ok: true, value: "" } : expandWord();
  }
}
