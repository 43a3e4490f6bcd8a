// POSIX-shell-like word splitting and quoting, enough for a pasted command
// line: single and double quotes, backslash escapes, `\` line continuations,
// comments. Nothing is expanded: `$VAR`, `$(…)` and backticks stay literal and
// are reported so the caller can say so. Shell operators (`|`, `;`, `&`, `<`,
// `>`) are refused: a pasted command is one command. Runs in the browser too.

export class ShellWordsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShellWordsError";
  }
}

export interface ShellWord {
  value: string;
  /** `$NAME`, `${…}`, `$(…)` or a backtick seen outside single quotes: the shell would have expanded it, we don't. */
  expands: boolean;
}

const BLANK = new Set([" ", "\t", "\n", "\r", "\f", "\v"]);
const OPERATORS = new Set(["|", ";", "&", "<", ">"]);

/** `$` followed by something a shell expands: a name, a positional/special parameter, `{` or `(`. */
function expandsAt(input: string, i: number): boolean {
  return input[i] === "$" && /[A-Za-z0-9_{(@*#?!$-]/.test(input[i + 1] ?? "");
}

/** A backslash-newline (either line ending) starting at i: its length, else 0. */
function continuationAt(input: string, i: number): number {
  if (input[i] !== "\\") return 0;
  if (input[i + 1] === "\n") return 2;
  if (input[i + 1] === "\r" && input[i + 2] === "\n") return 3;
  return 0;
}

/** Splits a command line into words. Throws ShellWordsError for an unterminated quote or a shell operator. */
export function splitShellWords(input: string): ShellWord[] {
  const words: ShellWord[] = [];
  let value = "";
  let inWord = false;
  let expands = false;
  const end = () => {
    if (inWord) words.push({ value, expands });
    value = "";
    inWord = false;
    expands = false;
  };

  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (BLANK.has(c)) {
      end();
      i++;
      continue;
    }
    const cont = continuationAt(input, i);
    if (cont) {
      i += cont;
      continue;
    }
    if (c === "\\") {
      // A trailing lone backslash escapes nothing: dropped.
      if (i + 1 < input.length) {
        value += input[i + 1];
        inWord = true;
      }
      i += 2;
      continue;
    }
    if (c === "'") {
      const close = input.indexOf("'", i + 1);
      if (close === -1) throw new ShellWordsError("unterminated single quote (') in the command");
      value += input.slice(i + 1, close);
      inWord = true;
      i = close + 1;
      continue;
    }
    if (c === '"') {
      inWord = true;
      i++;
      let closed = false;
      while (i < input.length) {
        const d = input[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\") {
          const dcont = continuationAt(input, i);
          if (dcont) {
            i += dcont;
            continue;
          }
          const next = input[i + 1];
          if (next !== undefined && "$`\"\\".includes(next)) {
            value += next;
            i += 2;
            continue;
          }
          value += d;
          i++;
          continue;
        }
        if (d === "`" || expandsAt(input, i)) expands = true;
        value += d;
        i++;
      }
      if (!closed) throw new ShellWordsError('unterminated double quote (") in the command');
      continue;
    }
    if (c === "#" && !inWord) {
      const nl = input.indexOf("\n", i);
      i = nl === -1 ? input.length : nl;
      continue;
    }
    if (OPERATORS.has(c)) {
      throw new ShellWordsError(`shell operator ${c} is not supported: paste a single docker run command`);
    }
    if (c === "`" || expandsAt(input, i)) expands = true;
    value += c;
    inWord = true;
    i++;
  }
  end();
  return words;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The word as the shell would need it: unchanged when it is safe bare, else in single quotes. */
export function quoteShellWord(word: string): string {
  if (word === "") return "''";
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Words joined into one command line, each quoted only when needed. */
export function joinShellWords(words: readonly string[]): string {
  return words.map(quoteShellWord).join(" ");
}
