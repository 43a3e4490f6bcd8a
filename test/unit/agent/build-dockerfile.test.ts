import { describe, expect, it } from "vitest";
import {
  argWords,
  DockerfileError,
  expandWord,
  expandWords,
  parseDockerfile,
  parseKeyValues,
  ShellExpansionError,
} from "../../../agent/build/dockerfile";

function parseError(text: string): DockerfileError {
  try {
    parseDockerfile(text);
  } catch (e) {
    expect(e).toBeInstanceOf(DockerfileError);
    return e as DockerfileError;
  }
  throw new Error("expected a DockerfileError");
}

describe("parseDockerfile: stages and instructions", () => {
  const text = [
    "# syntax=docker/dockerfile:1", // 1
    "ARG BASE=alpine:3.20", // 2
    "ARG TAG", // 3
    "FROM --platform=$BUILDPLATFORM golang:1.22 AS Builder", // 4
    "WORKDIR /src", // 5
    "COPY --chown=1000:1000 go.mod go.sum ./", // 6
    'RUN ["go", "build", "-o", "/out/app"]', // 7
    "", // 8
    "from ${BASE}", // 9
    "copy --from=builder --chmod=755 /out/app /usr/local/bin/app", // 10
    "ADD --link https://example.com/x.tgz /opt/", // 11
    "MAINTAINER someone@example.com", // 12
    "ENTRYPOINT app --serve", // 13
    "EXPOSE 8080/tcp 9090", // 14
  ].join("\n");
  const df = parseDockerfile(text);

  it("separates global ARGs from stages", () => {
    expect(df.escape).toBe("\\");
    expect(df.globalArgs).toEqual([
      { name: "BASE", value: "alpine:3.20" },
      { name: "TAG", value: null },
    ]);
    expect(df.stages).toHaveLength(2);
    expect(df.all.map((i) => i.keyword)).toEqual([
      "ARG",
      "ARG",
      "FROM",
      "WORKDIR",
      "COPY",
      "RUN",
      "FROM",
      "COPY",
      "ADD",
      "MAINTAINER",
      "ENTRYPOINT",
      "EXPOSE",
    ]);
  });

  it("parses FROM with --platform and a lowercased stage name", () => {
    const [s0, s1] = df.stages;
    expect(s0).toMatchObject({ index: 0, name: "builder", from: "golang:1.22" });
    expect(s0.fromInstruction.flags).toEqual({ platform: "$BUILDPLATFORM" });
    expect(s0.fromInstruction.line).toBe(4);
    expect(s0.instructions.map((i) => i.keyword)).toEqual(["WORKDIR", "COPY", "RUN"]);
    expect(s1).toMatchObject({ index: 1, name: null, from: "${BASE}" });
    expect(s1.fromInstruction.keyword).toBe("FROM");
    expect(s1.fromInstruction.line).toBe(9);
  });

  it("keeps flags, args, original text and line numbers", () => {
    const copy = df.stages[0].instructions[1];
    expect(copy).toEqual({
      keyword: "COPY",
      args: "go.mod go.sum ./",
      flags: { chown: "1000:1000" },
      json: null,
      line: 6,
      original: "COPY --chown=1000:1000 go.mod go.sum ./",
    });
    const copyFrom = df.stages[1].instructions[0];
    expect(copyFrom.flags).toEqual({ from: "builder", chmod: "755" });
    expect(copyFrom.args).toBe("/out/app /usr/local/bin/app");
    expect(copyFrom.original).toBe("copy --from=builder --chmod=755 /out/app /usr/local/bin/app");
    expect(df.stages[1].instructions[1].flags).toEqual({ link: "true" });
    expect(df.stages[1].instructions[2]).toMatchObject({ keyword: "MAINTAINER", args: "someone@example.com" });
  });

  it("distinguishes JSON (exec) and shell forms", () => {
    const run = df.stages[0].instructions[2];
    expect(run.json).toEqual(["go", "build", "-o", "/out/app"]);
    const ep = df.stages[1].instructions[3];
    expect(ep.json).toBeNull();
    expect(ep.args).toBe("app --serve");
    const copyJson = parseDockerfile('FROM a\nCOPY ["a b.txt", "/dst dir/"]').stages[0].instructions[0];
    expect(copyJson.json).toEqual(["a b.txt", "/dst dir/"]);
    const vol = parseDockerfile('FROM a\nVOLUME ["/data", "/logs"]\nVOLUME /x /y').stages[0].instructions;
    expect(vol[0].json).toEqual(["/data", "/logs"]);
    expect(vol[1].json).toBeNull();
    expect(argWords(vol[1])).toEqual(["/x", "/y"]);
    const cmdEmpty = parseDockerfile("FROM a\nCMD []").stages[0].instructions[0];
    expect(cmdEmpty.json).toEqual([]);
  });

  it("treats malformed JSON as shell form, like Docker", () => {
    const insts = parseDockerfile(['FROM a', 'RUN ["echo", "hi"', "CMD [echo hi]", "ENTRYPOINT ['sh']", 'COPY ["a" b]  /x'].join("\n"))
      .stages[0].instructions;
    expect(insts.map((i) => i.json)).toEqual([null, null, null, null]);
    expect(insts[0].args).toBe('["echo", "hi"');
    expect(insts[1].args).toBe("[echo hi]");
    expect(argWords(insts[3])).toEqual(['["a"', "b]", "/x"]);
  });

  it("rejects JSON arrays with non-string elements", () => {
    const e = parseError('FROM a\nRUN ["echo", 1]');
    expect(e.line).toBe(2);
    expect(e.message).toBe(
      "dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only",
    );
  });

  it("keeps ONBUILD's inner instruction and HEALTHCHECK flags", () => {
    const insts = parseDockerfile(
      [
        "FROM a",
        "ONBUILD COPY --from=x . /app",
        "HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/ || exit 1",
        'HEALTHCHECK CMD ["wget", "-q", "localhost"]',
        "HEALTHCHECK NONE",
        "STOPSIGNAL SIGINT",
        'SHELL ["/bin/bash", "-c"]',
        "USER 1000:1000",
      ].join("\n"),
    ).stages[0].instructions;
    expect(insts[0]).toMatchObject({ keyword: "ONBUILD", args: "COPY --from=x . /app", flags: {} });
    expect(insts[1]).toMatchObject({
      keyword: "HEALTHCHECK",
      args: "CMD curl -f http://localhost/ || exit 1",
      flags: { interval: "5s", retries: "3" },
      json: null,
    });
    expect(insts[2]).toMatchObject({ args: 'CMD ["wget", "-q", "localhost"]', json: ["wget", "-q", "localhost"] });
    expect(insts[3]).toMatchObject({ args: "NONE", flags: {}, json: null });
    expect(insts[4].args).toBe("SIGINT");
    expect(insts[5].json).toEqual(["/bin/bash", "-c"]);
    expect(insts[6].args).toBe("1000:1000");
  });
});

describe("parseDockerfile: lines, continuations, comments, directives", () => {
  it("joins backslash continuations, skipping comments and empty lines inside them", () => {
    const text = [
      "FROM alpine",
      "RUN apk add \\",
      "    curl \\",
      "# a comment inside the continuation",
      "    # an indented comment too",
      "",
      "    git",
      "ENV A=1",
    ].join("\n");
    const df = parseDockerfile(text);
    const [run, env] = df.stages[0].instructions;
    expect(run.args).toBe("apk add     curl     git");
    expect(run.original).toBe("RUN apk add     curl     git");
    expect(run.line).toBe(2);
    expect(env.line).toBe(8);
  });

  it("uses a backtick escape from the parser directive", () => {
    const text = ["# escape=`", "", "FROM mcr.microsoft.com/windows", "RUN dir c:\\ `", "  && echo done", "COPY a `", " b"].join(
      "\r\n",
    );
    const df = parseDockerfile(text);
    expect(df.escape).toBe("`");
    const [run, copy] = df.stages[0].instructions;
    expect(run.args).toBe("dir c:\\   && echo done");
    expect(run.line).toBe(4);
    expect(copy.args).toBe("a  b");
    expect(copy.line).toBe(6);
  });

  it("ignores directives after the first non-directive line", () => {
    const df = parseDockerfile(["# a comment", "# escape=`", "FROM a", "RUN echo \\", " hi"].join("\n"));
    expect(df.escape).toBe("\\");
    expect(df.stages[0].instructions[0].args).toBe("echo  hi");
  });

  it("accepts case-insensitive keywords and leading whitespace", () => {
    const df = parseDockerfile("  from a as B\n\trun echo hi\n");
    expect(df.stages[0].name).toBe("b");
    expect(df.stages[0].instructions[0]).toMatchObject({ keyword: "RUN", args: "echo hi", line: 2 });
  });

  it("rejects a repeated escape directive and bad escape tokens", () => {
    expect(parseError("# escape=`\n# escape=\\\nFROM a").message).toBe("only one escape parser directive can be used");
    expect(parseError("# escape=x\nFROM a").line).toBe(1);
  });
});

describe("parseDockerfile: errors", () => {
  it("reports unknown instructions with their line", () => {
    const e = parseError("FROM a\n\nFORM b\n");
    expect(e.code).toBe("INVALID");
    expect(e.line).toBe(3);
    expect(e.message).toBe("dockerfile parse error on line 3: unknown instruction: FORM");
  });

  it("reports missing arguments", () => {
    expect(parseError("FROM a\nRUN").message).toBe("dockerfile parse error on line 2: RUN requires at least one argument");
    expect(parseError("FROM a\nRUN \\\n").line).toBe(2);
    expect(parseError("FROM a\nCOPY onlyone").message).toBe(
      "dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined",
    );
    expect(parseError("FROM a\nWORKDIR").message).toBe("dockerfile parse error on line 2: WORKDIR requires exactly one argument");
    expect(parseError("FROM a\nEXPOSE").message).toBe("dockerfile parse error on line 2: EXPOSE requires at least one argument");
    expect(parseError("FROM a\nENV A").message).toBe("dockerfile parse error on line 2: ENV must have two arguments");
    expect(parseError("FROM a\nENV A=1 B").message).toContain(`can't find = in "B"`);
    expect(parseError("FROM").message).toBe("dockerfile parse error on line 1: FROM requires either one or three arguments");
    expect(parseError("FROM a b").message).toBe("dockerfile parse error on line 1: FROM requires either one or three arguments");
    expect(parseError("FROM a\nSHELL /bin/sh -c").message).toContain("SHELL requires the arguments to be in JSON form");
    expect(parseError("FROM a\nONBUILD FROM b").message).toContain("FROM isn't allowed as an ONBUILD trigger");
  });

  it("validates stage names and flags", () => {
    expect(parseError("FROM a AS 1st").message).toContain(`invalid name for build stage: "1st"`);
    expect(parseError("FROM a\nCOPY --frm=x a b").message).toBe("dockerfile parse error on line 2: unknown flag: frm");
    expect(parseError("FROM a\nCOPY --from a b").message).toContain("missing a value on flag: from");
    expect(parseError("FROM a\nENV --x=1 A=1").message).toContain("unknown flag: x");
  });

  it("requires a FROM before other instructions", () => {
    const e = parseError("ARG X=1\nRUN echo hi\nFROM a");
    expect(e.line).toBe(2);
    expect(e.message).toBe("no build stage in current context");
    expect(parseError("# just a comment\n\n").message).toBe("file with no instructions");
    expect(parseError("").message).toBe("file with no instructions");
    expect(parseError("ARG A=1\n").message).toBe("No image was generated. Is your Dockerfile empty?");
  });
});

describe("expandWord / expandWords", () => {
  const env = { A: "a", EMPTY: "", SPACED: "x  y", PATH_: "/usr/local/bin/app.tar.gz" };

  it("expands $VAR and ${VAR}; unknown variables are empty", () => {
    expect(expandWord("$A-${A}_$NOPE.${NOPE}", env)).toBe("a-a_.");
    expect(expandWord("$", env)).toBe("$");
    expect(expandWord("a$", env)).toBe("a$");
  });

  it("handles the ${VAR:-x} ${VAR-x} ${VAR:+y} ${VAR+y} modifiers", () => {
    expect(expandWord("${NOPE:-x}|${EMPTY:-x}|${A:-x}", env)).toBe("x|x|a");
    expect(expandWord("${NOPE-x}|${EMPTY-x}|${A-x}", env)).toBe("x||a");
    expect(expandWord("${NOPE:+y}|${EMPTY:+y}|${A:+y}", env)).toBe("||y");
    expect(expandWord("${NOPE+y}|${EMPTY+y}|${A+y}", env)).toBe("|y|y");
    expect(expandWord("${NOPE:-$A/${A}}", env)).toBe("a/a");
  });

  it("handles pattern removal and substitution", () => {
    expect(expandWord("${PATH_#*/}", env)).toBe("usr/local/bin/app.tar.gz");
    expect(expandWord("${PATH_##*/}", env)).toBe("app.tar.gz");
    expect(expandWord("${PATH_%.*}", env)).toBe("/usr/local/bin/app.tar");
    expect(expandWord("${PATH_%%.*}", env)).toBe("/usr/local/bin/app");
    expect(expandWord("${PATH_/local/opt}", env)).toBe("/usr/opt/bin/app.tar.gz");
    expect(expandWord("${PATH_//a/A}", env)).toBe("/usr/locAl/bin/App.tAr.gz");
  });

  it("honours escapes and quotes", () => {
    expect(expandWord("\\$A", env)).toBe("$A");
    expect(expandWord("'$A \"q\"'", env)).toBe('$A "q"');
    expect(expandWord('"$A \'s\' \\"x\\" \\n"', env)).toBe("a 's' \"x\" \\n");
    expect(expandWord("`$A", env, "`")).toBe("$A");
    expect(expandWord("c:\\dir\\$A", env, "`")).toBe("c:\\dir\\a");
    expect(expandWord("trailing\\", env)).toBe("trailing");
  });

  it("reports syntax errors with Docker's wording", () => {
    expect(() => expandWord("'open", env)).toThrow(ShellExpansionError);
    expect(() => expandWord('"open', env)).toThrow(
      `failed to process "\\"open": unexpected end of statement while looking for matching double-quote`,
    );
    expect(() => expandWord("${A", env)).toThrow("syntax error: missing '}'");
    expect(() => expandWord("${}", env)).toThrow("bad substitution");
    expect(() => expandWord("${NOPE:?must be set}", env)).toThrow("NOPE: must be set");
  });

  it("splits words after expansion, keeping quoted spaces", () => {
    expect(expandWords("$SPACED 'a b' \"$SPACED\" c\\ d", env)).toEqual(["x", "y", "a b", "x  y", "c d"]);
    expect(expandWords("  80/tcp   ${A}443  ", env)).toEqual(["80/tcp", "a443"]);
    expect(expandWords("'' x", env)).toEqual(["x"]);
  });
});

describe("parseKeyValues", () => {
  const env = { X: "ex", Y: "why" };

  it("parses modern key=value pairs with quotes and expansion", () => {
    expect(parseKeyValues(`a=1 b='x y' c="$X" d=\${Y:-z} e=a\\ b`, env, { allowLegacy: true, allowNoValue: false })).toEqual([
      ["a", "1"],
      ["b", "x y"],
      ["c", "ex"],
      ["d", "why"],
      ["e", "a b"],
    ]);
    expect(parseKeyValues(`"com.example.label"="a value" empty=`, env, { allowLegacy: false, allowNoValue: false })).toEqual([
      ["com.example.label", "a value"],
      ["empty", ""],
    ]);
  });

  it("parses the legacy 'key value with spaces' form", () => {
    expect(parseKeyValues("PATH /usr/local/$X:$Y  now", env, { allowLegacy: true, allowNoValue: false })).toEqual([
      ["PATH", "/usr/local/ex:why  now"],
    ]);
    expect(parseKeyValues(`MSG "hello world"`, env, { allowLegacy: true, allowNoValue: false })).toEqual([["MSG", "hello world"]]);
    expect(() => parseKeyValues("A", env, { allowLegacy: true, allowNoValue: false })).toThrow("ENV must have two arguments");
  });

  it("parses ARG names without values", () => {
    expect(parseKeyValues("VERSION BASE=alpine:$X", env, { allowLegacy: false, allowNoValue: true })).toEqual([
      ["VERSION", null],
      ["BASE", "alpine:ex"],
    ]);
    expect(() => parseKeyValues("A=1 B", env, { allowLegacy: false, allowNoValue: false })).toThrow(`can't find = in "B"`);
  });

  it("parses with the backtick escape", () => {
    expect(parseKeyValues("P=c:\\x`$X", env, { allowLegacy: true, allowNoValue: false }, "`")).toEqual([["P", "c:\\x$X"]]);
  });
});
