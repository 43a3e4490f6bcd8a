import "server-only";
// Deeply nested JSON parses (V8's parser copes), but every recursive walk
// after it (validation, redaction, JSON.stringify) overflows the stack: a
// 500 for what is bad input. So bodies are measured before they are parsed.

/** How deep arrays and objects nest in a JSON text (strings skipped), counted without parsing or recursion. */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Deeper than any request body of ours or of the Docker API needs. */
export const MAX_JSON_DEPTH = 64;

/** The problem with a body's nesting, for a 400; null when it is fine. */
export function jsonDepthProblem(text: string, max = MAX_JSON_DEPTH): string | null {
  const depth = jsonNestingDepth(text);
  return depth > max ? `the JSON nests ${depth} levels deep; at most ${max} are accepted` : null;
}
