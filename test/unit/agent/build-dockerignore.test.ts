import { describe, expect, it } from "vitest";
import { parseDockerignore } from "../../../agent/build/dockerignore";

const ignored = (text: string, paths: string[]) => {
  const m = parseDockerignore(text);
  return paths.filter((p) => m.ignores(p));
};

describe("parseDockerignore: file format", () => {
  it("trims lines, skips comments and blanks, cleans paths and strips a leading slash", () => {
    const m = parseDockerignore("# comment\n\n  node_modules/  \r\n/build\n./dist/../out\n!  /keep.txt\n");
    expect(m.patterns).toEqual(["node_modules", "build", "out", "!keep.txt"]);
  });

  it("only treats # at the start of a line as a comment", () => {
    expect(parseDockerignore("  #notacomment\n").patterns).toEqual(["#notacomment"]);
  });

  it("rejects a lone !", () => {
    expect(() => parseDockerignore("!\n")).toThrow('illegal exclusion pattern: "!"');
  });
});

describe("parseDockerignore: matching", () => {
  it("ignores everything below an ignored directory", () => {
    expect(ignored("node_modules\n", ["node_modules", "node_modules/x/y", "src/node_modules", "node_modules2"])).toEqual([
      "node_modules",
      "node_modules/x/y",
    ]);
    expect(ignored("/build/\n", ["build/out.o", "src/build/out.o"])).toEqual(["build/out.o"]);
  });

  it("matches * within one path segment", () => {
    expect(ignored("*.log\n", ["a.log", "dir/a.log", "a.log.txt"])).toEqual(["a.log"]);
    expect(ignored("*/temp*\n", ["somedir/temporary.txt", "somedir/temp", "temp", "a/b/temp"])).toEqual([
      "somedir/temporary.txt",
      "somedir/temp",
    ]);
  });

  it("matches ** across any number of segments", () => {
    expect(ignored("**/*.log\n", ["a.log", "x/a.log", "x/y/z/a.log", "a.txt", "logs/a.log/inner"])).toEqual([
      "a.log",
      "x/a.log",
      "x/y/z/a.log",
      "logs/a.log/inner",
    ]);
    expect(ignored("a/**/b\n", ["a/b", "a/x/b", "a/x/y/b/c", "b", "c/a/b"])).toEqual(["a/b", "a/x/b", "a/x/y/b/c"]);
    expect(ignored("docs/**\n", ["docs", "docs/a", "docs/a/b", "docsx"])).toEqual(["docs/a", "docs/a/b"]);
    expect(ignored("**/.git\n", [".git", ".git/HEAD", "sub/.git/config", "x.git"])).toEqual([
      ".git",
      ".git/HEAD",
      "sub/.git/config",
    ]);
  });

  it("re-includes with ! exclusions, the last matching pattern winning", () => {
    expect(ignored("*.log\n!keep.log\n", ["a.log", "keep.log", "x/keep.log"])).toEqual(["a.log"]);
    expect(ignored("*.md\n!README*.md\nREADME-secret.md\n", ["a.md", "README.md", "README-secret.md"])).toEqual([
      "a.md",
      "README-secret.md",
    ]);
    expect(ignored("dist\n!dist/keep\n", ["dist/a", "dist/keep", "dist/keep/x"])).toEqual(["dist/a"]);
  });

  it("supports ? and character classes", () => {
    expect(ignored("[ab]?.txt\n", ["a1.txt", "bz.txt", "c1.txt", "a.txt", "a12.txt", "ab/c.txt"])).toEqual(["a1.txt", "bz.txt"]);
    expect(ignored("file[0-9].c\n", ["file1.c", "filex.c"])).toEqual(["file1.c"]);
  });

  it("treats regexp characters literally and honours backslash escapes", () => {
    expect(ignored("a+b(1).txt\n", ["a+b(1).txt", "aab1.txt"])).toEqual(["a+b(1).txt"]);
    // as in patternmatcher, an escape only acts in a regexp pattern; otherwise the pattern is compared as written
    expect(ignored("\\*[.]txt\n", ["*.txt", "a.txt"])).toEqual(["*.txt"]);
    expect(ignored("\\*.txt\n", ["*.txt", "a.txt"])).toEqual([]);
  });

  it("accepts a leading ./ in queried paths", () => {
    expect(parseDockerignore("secret\n").ignores("./secret/key")).toBe(true);
  });
});
