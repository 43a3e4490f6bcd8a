import { describe, expect, it } from "vitest";
import { joinShellWords, quoteShellWord, ShellWordsError, splitShellWords } from "../../../lib/deploy/shell-words";

const values = (input: string) => splitShellWords(input).map((w) => w.value);

describe("splitShellWords", () => {
  it("splits on runs of blanks and newlines", () => {
    expect(values("  a   b\t\tc\n\nd  ")).toEqual(["a", "b", "c", "d"]);
    expect(values("")).toEqual([]);
  });

  it("reads quotes and escapes as a POSIX shell does", () => {
    expect(values(`'a b' "c d" e\\ f`)).toEqual(["a b", "c d", "e f"]);
    expect(values(`'it'\\''s' "say \\"hi\\"" "a\\b" 'a\\b'`)).toEqual(["it's", 'say "hi"', "a\\b", "a\\b"]);
    expect(values(`x"y"'z' '' ""`)).toEqual(["xyz", "", ""]);
    expect(values(`"line1\nline2"`)).toEqual(["line1\nline2"]);
  });

  it("joins line continuations, LF or CRLF, also inside double quotes", () => {
    expect(values("a \\\n  b \\\r\n  c")).toEqual(["a", "b", "c"]);
    expect(values('"ab\\\ncd"')).toEqual(["abcd"]);
    expect(values("ab\\\ncd")).toEqual(["abcd"]);
  });

  it("skips comments that start a word", () => {
    expect(values("# setup\na b#c # trailing\nd")).toEqual(["a", "b#c", "d"]);
  });

  it("keeps $ expansions literal and flags them", () => {
    const words = splitShellWords(`$HOME "\${X}" '$Y' a$ \`id\` "$(pwd)/x" price=5$`);
    expect(words).toEqual([
      { value: "$HOME", expands: true },
      { value: "${X}", expands: true },
      { value: "$Y", expands: false },
      { value: "a$", expands: false },
      { value: "`id`", expands: true },
      { value: "$(pwd)/x", expands: true },
      { value: "price=5$", expands: false },
    ]);
  });

  it("refuses unterminated quotes and shell operators", () => {
    expect(() => splitShellWords("'abc")).toThrow(new ShellWordsError("unterminated single quote (') in the command"));
    expect(() => splitShellWords('"abc')).toThrow(new ShellWordsError('unterminated double quote (") in the command'));
    expect(() => splitShellWords("a; b")).toThrow(ShellWordsError);
    expect(() => splitShellWords("a && b")).toThrow(ShellWordsError);
    expect(() => splitShellWords("a > f")).toThrow(ShellWordsError);
    expect(values("'a; b' \"c | d\" e\\&f")).toEqual(["a; b", "c | d", "e&f"]);
  });
});

describe("quoteShellWord", () => {
  it("quotes only when needed, and what it writes reads back", () => {
    expect(quoteShellWord("nginx:1.27")).toBe("nginx:1.27");
    expect(quoteShellWord("A=b,c/d@e%f+g-h.i")).toBe("A=b,c/d@e%f+g-h.i");
    expect(quoteShellWord("")).toBe("''");
    expect(quoteShellWord("a b")).toBe("'a b'");
    expect(quoteShellWord("it's")).toBe("'it'\\''s'");
    const tricky = ["", "a b", "it's", 'say "hi"', "$HOME", "a\nb", "back\\slash", "~user", "#x", "*", "[x]", "{a,b}", "•"];
    expect(values(joinShellWords(tricky))).toEqual(tricky);
  });
});
