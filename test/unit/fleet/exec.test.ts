import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellQuote } from "../../../server/fleet/ssh/exec";

/** What a POSIX shell makes of the quoted word. */
function throughShell(word: string): string {
  return execFileSync("sh", ["-c", `printf %s ${shellQuote(word)}`], { encoding: "utf8" });
}

describe("fleet/ssh/exec shellQuote", () => {
  it("leaves plain words alone", () => {
    for (const word of ["node", "/usr/local/lib/berth/berth-agent.mjs", "--root", "a=b", "host:22", "x,y", "user@host", "50%", "1+1"]) {
      expect(shellQuote(word)).toBe(word);
    }
  });

  it("round-trips tricky strings through sh", () => {
    const tricky = [
      "",
      "with space",
      "it's",
      "'",
      "''",
      `"double"`,
      "$HOME",
      "${PATH}",
      "`id`",
      "$(id)",
      "a\nb",
      "\n",
      "tab\there",
      "back\\slash",
      "semi;colon && rm -rf /tmp/nothing",
      "glob * ? [a]",
      "~",
      "-n",
      "pipe | redirect > out < in",
      "#comment",
      "!bang",
      "ünïcødé ✓",
      `mix 'single' "double" $var \`tick\` \\ \n end`,
    ];
    for (const word of tricky) expect(throughShell(word)).toBe(word);
  });

  it("keeps words separate in a command line", () => {
    const words = ["a b", "it's", "", "$x"];
    const out = execFileSync("sh", ["-c", `printf '<%s>' ${words.map(shellQuote).join(" ")}`], { encoding: "utf8" });
    expect(out).toBe("<a b><it's><><$x>");
  });
});
