import { describe, expect, it } from "vitest";
import { addUploads, emptyFiles, filesFromSource, nameProblem, pathProblem, problemsIn, problemWhere, toSource } from "../../../components/stacks/source-files";

describe("the stack editor's files", () => {
  it("leaves an empty .env out of the source and passes profiles as a list", () => {
    const state = { ...emptyFiles(), profiles: "debug, tools debug" };
    const source = toSource(state);
    expect(source.files.map((f) => f.path)).toEqual(["compose.yaml"]);
    expect(source.composeFiles).toEqual(["compose.yaml"]);
    expect(source.profiles).toEqual(["debug", "tools"]);
    const withEnv = toSource({ ...state, files: state.files.map((f) => (f.path === ".env" ? { ...f, content: "TAG=1\n" } : f)) });
    expect(withEnv.files.map((f) => f.path)).toEqual(["compose.yaml", ".env"]);
  });

  it("takes uploads: the first compose upload replaces the template, later ones merge after it, others sit beside", () => {
    let state = addUploads(emptyFiles(), [{ path: "docker-compose.yml", content: "services: {}\n" }, { path: ".env", content: "A=1\n" }], { replaceCompose: true });
    expect(state.composeFiles).toEqual(["docker-compose.yml"]);
    expect(state.files.map((f) => f.path)).toEqual([".env", "docker-compose.yml"]);
    expect(state.files.find((f) => f.path === ".env")!.content).toBe("A=1\n");
    state = addUploads(state, [{ path: "override.yaml", content: "x" }, { path: "app.env", content: "B=2" }], { replaceCompose: false });
    expect(state.composeFiles).toEqual(["docker-compose.yml", "override.yaml"]);
    expect(state.files.map((f) => f.path)).toContain("app.env");
  });

  it("opens a stored source with its merge order and profiles, adding an empty .env tab", () => {
    const state = filesFromSource({ files: [{ path: "a.yaml", content: "" }, { path: "b.yaml", content: "" }], composeFiles: ["b.yaml", "a.yaml"], profiles: ["x"] });
    expect(state.composeFiles).toEqual(["b.yaml", "a.yaml"]);
    expect(state.profiles).toBe("x");
    expect(state.files.map((f) => f.path)).toEqual(["a.yaml", "b.yaml", ".env"]);
  });

  it("says what is wrong with a name or a path", () => {
    expect(nameProblem("")).toMatch(/name/);
    expect(nameProblem("Shop")).toMatch(/Lower-case/);
    expect(nameProblem("shop_1")).toBeNull();
    expect(pathProblem("../x.env", [])).toMatch(/relative/);
    expect(pathProblem("app.env", ["app.env"])).toMatch(/already/);
    expect(pathProblem("config/app.env", [])).toBeNull();
  });

  it("places problems in their file and says where they are", () => {
    const problems = [
      { file: "compose.yaml", path: "services.web", line: 3, message: "x" },
      { path: "", message: "no file named" },
      { file: ".env", path: "", line: 1, message: "y" },
    ];
    expect(problemsIn(problems, "compose.yaml", "compose.yaml").map((p) => p.message)).toEqual(["x", "no file named"]);
    expect(problemWhere(problems[0]!)).toBe("compose.yaml · line 3 · services.web");
  });
});
