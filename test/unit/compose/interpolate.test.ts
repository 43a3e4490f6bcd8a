import { describe, expect, it } from "vitest";
import { interpolate } from "@/lib/compose/interpolate";
import { loadStack } from "@/lib/compose/load";
import { envOf, load, problemsOf } from "./helpers";

const env: Record<string, string | undefined> = { SET: "value", EMPTY: "", PORT: "8080" };
const lookup = (n: string) => env[n];
const value = (text: string) => {
  const r = interpolate(text, lookup);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe("interpolation, every form of the Compose Specification", () => {
  it("$VAR and ${VAR}", () => {
    expect(value("a $SET b")).toBe("a value b");
    expect(value("${SET}x")).toBe("valuex");
    expect(value("$SET-x")).toBe("value-x");
    expect(value("$UNSET|")).toBe("|");
  });

  it("reports unset variables (they become empty strings)", () => {
    const r = interpolate("${A}${B:-x}$C", lookup);
    expect(r).toEqual({ ok: true, value: "x", unset: ["A", "C"] });
  });

  it("${VAR:-default} uses the default when unset or empty; ${VAR-default} only when unset", () => {
    expect(value("${UNSET:-d}")).toBe("d");
    expect(value("${EMPTY:-d}")).toBe("d");
    expect(value("${SET:-d}")).toBe("value");
    expect(value("${UNSET-d}")).toBe("d");
    expect(value("${EMPTY-d}")).toBe("");
  });

  it("${VAR:+alt} / ${VAR+alt} give the alternative when set", () => {
    expect(value("${SET:+alt}")).toBe("alt");
    expect(value("${EMPTY:+alt}")).toBe("");
    expect(value("${EMPTY+alt}")).toBe("alt");
    expect(value("${UNSET+alt}")).toBe("");
  });

  it("${VAR:?err} / ${VAR?err} fail with the message", () => {
    expect(interpolate("${UNSET:?give it}", lookup)).toEqual({ ok: false, kind: "required", variable: "UNSET", message: "give it" });
    expect(interpolate("${EMPTY:?must be set}", lookup)).toMatchObject({ ok: false, variable: "EMPTY" });
    expect(value("${EMPTY?x}")).toBe("");
    expect(interpolate("${UNSET?}", lookup)).toMatchObject({ ok: false, variable: "UNSET", message: "is required (unset)" });
    expect(value("${SET:?x}")).toBe("value");
  });

  it("nested defaults, expanded only when used", () => {
    expect(value("${UNSET:-${SET}}")).toBe("value");
    expect(value("${UNSET:-${ALSO_UNSET:-deep}}")).toBe("deep");
    expect(value("${SET:-${UNSET:?never evaluated}}")).toBe("value");
    expect(value("${UNSET:-a:${PORT}/b}")).toBe("a:8080/b");
  });

  it("$$ is a literal $ (and stops a variable)", () => {
    expect(value("$$SET")).toBe("$SET");
    expect(value("cost: $$5")).toBe("cost: $5");
    expect(value("${UNSET:-$$}")).toBe("$");
  });

  it("refuses malformed templates", () => {
    expect(interpolate("${SET", lookup)).toMatchObject({ ok: false, kind: "syntax" });
    expect(interpolate("a $ b", lookup)).toMatchObject({ ok: false, kind: "syntax" });
    expect(interpolate("${1X}", lookup)).toMatchObject({ ok: false, kind: "syntax" });
    expect(interpolate("${SET!x}", lookup)).toMatchObject({ ok: false, kind: "syntax" });
  });
});

describe("interpolation in a stack", () => {
  it("takes .env, with options.env winning like the shell", () => {
    const model = load("services:\n  web:\n    image: nginx:${TAG}\n    environment:\n      A: ${A}\n", { ".env": "TAG=1.25\nA=from-file\n" }, { env: { A: "from-shell" } });
    expect(model.services[0]!.spec.image).toBe("nginx:1.25");
    expect(envOf(model, "web")).toEqual({ A: "from-shell" });
  });

  it("a missing required variable names the variable, the message and where it is used", () => {
    const problems = problemsOf("services:\n  web:\n    image: nginx\n    environment:\n      DB: ${DB_URL:?set DB_URL to the database}\n");
    expect(problems).toEqual([
      { file: "compose.yaml", path: "services.web.environment.DB", line: 5, column: 7, message: "required variable DB_URL is missing a value: set DB_URL to the database" },
    ]);
  });

  it("casts typed fields filled by a variable (ports target, replicas, booleans)", () => {
    const model = load(
      "services:\n  web:\n    image: nginx\n    privileged: ${PRIV}\n    ports:\n      - target: ${P}\n        published: ${P}\n    deploy:\n      replicas: ${N}\n",
      {},
      { env: { P: "80", N: "3", PRIV: "false" } },
    );
    const web = model.services[0]!;
    expect(web.spec.ports).toEqual([{ hostPort: 80, containerPort: 80, protocol: "tcp" }]);
    expect(web.replicas).toBe(3);
    expect(web.spec.privileged).toBe(false);
  });

  it("warns once per unset variable", () => {
    const r = loadStack({ files: [{ path: "compose.yaml", content: "services:\n  web:\n    image: nginx\n    environment: [A=$X, B=$X]\n" }] }, { stackName: "a" });
    expect(r.ok && r.warnings.map((w) => w.message)).toEqual(["the X variable is not set: using an empty string"]);
  });

  it("a syntax error in a template is a problem with its line", () => {
    const problems = problemsOf("services:\n  web:\n    image: nginx\n    command: echo ${oops\n");
    expect(problems[0]).toMatchObject({ path: "services.web.command", line: 4 });
    expect(problems[0]!.message).toContain("closing }");
  });
});
