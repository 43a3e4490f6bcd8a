import { describe, expect, it } from "vitest";
import { parseDotenv } from "@/lib/compose/dotenv";
import { envOf, load, problemsOf } from "./helpers";

const vars = (content: string, env: Record<string, string> = {}) => {
  const r = parseDotenv(content, (n) => env[n]);
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join("; "));
  return r.vars;
};

describe(".env parsing, as docker compose reads it", () => {
  it("plain values, export, comments, blank lines, CRLF", () => {
    expect(vars("# comment\nA=1\r\n\nexport B=two\n  C = spaced  \nD=\n")).toEqual({ A: "1", B: "two", C: "spaced", D: "" });
  });

  it("inline comments only after whitespace in unquoted values", () => {
    expect(vars("A=value # comment\nB=va#lue\n")).toEqual({ A: "value", B: "va#lue" });
  });

  it("single quotes are literal; double quotes take escapes and interpolation", () => {
    expect(vars("X=x\nA='$X \\n raw'\nB=\"$X \\n \\\"q\\\" \\$X\"\n")).toEqual({ X: "x", A: "$X \\n raw", B: 'x \n "q" $X' });
  });

  it("double-quoted values may span lines", () => {
    expect(vars('KEY="line one\nline two"\nNEXT=1\n')).toEqual({ KEY: "line one\nline two", NEXT: "1" });
  });

  it("${VAR} sees the file's earlier variables, then the environment", () => {
    expect(vars("A=a\nB=${A}-${HOME}\nC=${MISSING:-dflt}\n", { HOME: "/root" })).toEqual({ A: "a", B: "a-/root", C: "dflt" });
  });

  it("a bare KEY takes its value from the environment (or is left out)", () => {
    expect(vars("HOME\nNOPE\n", { HOME: "/root" })).toEqual({ HOME: "/root" });
  });

  it("YAML-style KEY: value", () => {
    expect(vars("A: 1\n")).toEqual({ A: "1" });
  });

  it("problems name the line", () => {
    const r = parseDotenv("A=1\nnot valid line\nB='open\n");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => p.line)).toEqual([2, 3]);
    expect(!r.ok && r.problems[1]!.message).toContain("never closed");
  });

  it("a stack's .env problem is reported with the file and line", () => {
    const problems = problemsOf({ files: [{ path: "compose.yaml", content: "services:\n  a:\n    image: x\n" }, { path: ".env", content: "OK=1\n=bad\n" }] });
    expect(problems).toEqual([{ file: ".env", path: "", line: 2, message: 'line 2: "=bad" is not KEY=VALUE' }]);
  });
});

describe("env_file", () => {
  const compose = (envFile: string) => `services:\n  web:\n    image: nginx\n    env_file: ${envFile}\n    environment:\n      OVERRIDE: from-compose\n`;

  it("string form, relative to the compose file, with environment winning", () => {
    const model = load(compose("./conf/app.env"), { "conf/app.env": "A=1\nOVERRIDE=from-file\n" });
    expect(envOf(model, "web")).toEqual({ A: "1", OVERRIDE: "from-compose" });
  });

  it("list form: later files win", () => {
    const model = load(compose("[a.env, b.env]"), { "a.env": "A=a\nB=a\n", "b.env": "B=b\n" });
    expect(envOf(model, "web")).toEqual({ A: "a", B: "b", OVERRIDE: "from-compose" });
  });

  it("long form: a missing optional file is skipped, a missing required one is a problem", () => {
    const model = load(compose("[{path: opt.env, required: false}, {path: a.env}]"), { "a.env": "A=1\n" });
    expect(envOf(model, "web")).toEqual({ A: "1", OVERRIDE: "from-compose" });
    const problems = problemsOf({ files: [{ path: "compose.yaml", content: compose("[{path: gone.env}]") }] });
    expect(problems[0]).toMatchObject({ path: "services.web.env_file[0]", line: 4 });
    expect(problems[0]!.message).toContain('env_file "gone.env" is not among the stack\'s files');
  });

  it("env_file values are interpolated from the stack's environment", () => {
    const model = load(compose("app.env"), { "app.env": "URL=http://${HOST:-localhost}:${PORT}\n", ".env": "PORT=5432\n" });
    expect(envOf(model, "web").URL).toBe("http://localhost:5432");
  });

  it("refuses a path that climbs out of the stack", () => {
    const problems = problemsOf({ files: [{ path: "compose.yaml", content: compose("../../etc/passwd") }] });
    expect(problems[0]).toMatchObject({ path: "services.web.env_file", line: 4 });
    expect(problems[0]!.message).toContain("must be a relative path inside the stack");
  });

  it("a problem inside an env_file names that file and line", () => {
    const problems = problemsOf({ files: [{ path: "compose.yaml", content: compose("app.env") }, { path: "app.env", content: "A=1\nB=${NEED:?needed}\n" }] });
    expect(problems[0]).toMatchObject({ file: "app.env", line: 2 });
    expect(problems[0]!.message).toContain("NEED needed");
  });

  it("environment as a list: A=b, and A alone taken from the environment", () => {
    const model = load("services:\n  web:\n    image: nginx\n    environment: [A=b, FROM_ENV, NOT_SET, 'C=x=y']\n", {}, { env: { FROM_ENV: "yes" } });
    expect(envOf(model, "web")).toEqual({ A: "b", FROM_ENV: "yes", C: "x=y" });
  });

  it("environment as a map: null from the environment, numbers and booleans as text", () => {
    const model = load("services:\n  web:\n    image: nginx\n    environment:\n      FROM_ENV:\n      N: 3\n      T: true\n", { ".env": "FROM_ENV=dotenv\n" });
    expect(envOf(model, "web")).toEqual({ FROM_ENV: "dotenv", N: "3", T: "true" });
  });
});
