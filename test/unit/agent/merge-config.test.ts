import { describe, expect, it } from "vitest";
import { CreateRequestError } from "../../../lib/docker/create-request";
import { DEFAULT_PATH_ENV, type ImageRunConfig, mergeContainerConfig, processEnv } from "../../../agent/engine/merge-config";

const nginx: ImageRunConfig = {
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.27.0"],
  Entrypoint: ["/docker-entrypoint.sh"],
  Cmd: ["nginx", "-g", "daemon off;"],
  ExposedPorts: { "80/tcp": {} },
  Labels: { maintainer: "NGINX", "org.x": "img" },
  StopSignal: "SIGQUIT",
  WorkingDir: "",
};

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CreateRequestError);
    return (err as Error).message;
  }
  throw new Error("expected a CreateRequestError");
}

describe("mergeContainerConfig: command", () => {
  it("uses the image's entrypoint and cmd when the user gives neither", () => {
    const m = mergeContainerConfig(nginx, {});
    expect(m.Entrypoint).toEqual(["/docker-entrypoint.sh"]);
    expect(m.Cmd).toEqual(["nginx", "-g", "daemon off;"]);
    expect(m.path).toBe("/docker-entrypoint.sh");
    expect(m.args).toEqual(["nginx", "-g", "daemon off;"]);
  });

  it("replaces the image Cmd with the user's, keeping the image Entrypoint", () => {
    const m = mergeContainerConfig(nginx, { Cmd: ["nginx", "-v"] });
    expect(m.Entrypoint).toEqual(["/docker-entrypoint.sh"]);
    expect(m.Cmd).toEqual(["nginx", "-v"]);
    expect([m.path, ...m.args]).toEqual(["/docker-entrypoint.sh", "nginx", "-v"]);
  });

  it("an empty user Cmd counts as unset", () => {
    expect(mergeContainerConfig(nginx, { Cmd: [] }).Cmd).toEqual(["nginx", "-g", "daemon off;"]);
  });

  it("a user Entrypoint replaces the image's and drops the image Cmd", () => {
    const m = mergeContainerConfig(nginx, { Entrypoint: ["sh", "-c"] });
    expect(m.Entrypoint).toEqual(["sh", "-c"]);
    expect(m.Cmd).toBeNull();
    expect(m.path).toBe("sh");
    expect(m.args).toEqual(["-c"]);
  });

  it("a user Entrypoint and Cmd are both kept", () => {
    const m = mergeContainerConfig(nginx, { Entrypoint: ["echo"], Cmd: ["hi", "there"] });
    expect([m.path, ...m.args]).toEqual(["echo", "hi", "there"]);
  });

  it('--entrypoint "" ([""]) clears the entrypoint and runs the user Cmd', () => {
    const m = mergeContainerConfig(nginx, { Entrypoint: [""], Cmd: ["ls", "-l"] });
    expect(m.Entrypoint).toBeNull();
    expect(m.Cmd).toEqual(["ls", "-l"]);
    expect(m.path).toBe("ls");
    expect(m.args).toEqual(["-l"]);
  });

  it('--entrypoint "" without a command is "no command specified" (the image Cmd is dropped)', () => {
    expect(errorOf(() => mergeContainerConfig(nginx, { Entrypoint: [""] }))).toBe("no command specified");
  });

  it("an explicit empty Entrypoint [] clears the entrypoint but keeps the image Cmd (moby's merge)", () => {
    const m = mergeContainerConfig(nginx, { Entrypoint: [] });
    expect(m.Entrypoint).toEqual([]);
    expect(m.Cmd).toEqual(["nginx", "-g", "daemon off;"]);
    expect(m.path).toBe("nginx");
  });

  it("refuses an empty command", () => {
    expect(errorOf(() => mergeContainerConfig({}, {}))).toBe("no command specified");
    expect(errorOf(() => mergeContainerConfig(undefined, { Cmd: [] }))).toBe("no command specified");
  });

  it("works without an image config (scratch / no config)", () => {
    const m = mergeContainerConfig(undefined, { Cmd: ["/hello"] });
    expect(m.path).toBe("/hello");
    expect(m.args).toEqual([]);
    expect(m.Env).toEqual([]);
    expect(m.Labels).toEqual({});
    expect(m.User).toBe("");
  });

  it("does not alias the inputs", () => {
    const image: ImageRunConfig = { Cmd: ["a"], Env: ["A=1"], Labels: { l: "1" } };
    const m = mergeContainerConfig(image, {});
    m.Cmd!.push("x");
    m.Env.push("B=2");
    m.Labels.new = "y";
    expect(image).toEqual({ Cmd: ["a"], Env: ["A=1"], Labels: { l: "1" } });
  });
});

describe("mergeContainerConfig: env, labels, ports, volumes", () => {
  it("takes the image env when the user sets none", () => {
    expect(mergeContainerConfig(nginx, {}).Env).toEqual(nginx.Env);
  });

  it("merges env by key, the user's value winning; user entries first, then the image's others (moby order)", () => {
    const m = mergeContainerConfig(nginx, { Env: ["NGINX_VERSION=custom", "K=V"] });
    expect(m.Env).toEqual(["NGINX_VERSION=custom", "K=V", nginx.Env![0]]);
  });

  it("a user entry without '=' still shadows the image's key", () => {
    const m = mergeContainerConfig(nginx, { Env: ["NGINX_VERSION"] });
    expect(m.Env).toEqual(["NGINX_VERSION", nginx.Env![0]]);
  });

  it("unions labels, the user's value winning", () => {
    const m = mergeContainerConfig(nginx, { Labels: { "org.x": "mine", app: "web" } });
    expect(m.Labels).toEqual({ maintainer: "NGINX", "org.x": "mine", app: "web" });
  });

  it("unions exposed ports and volumes", () => {
    const m = mergeContainerConfig(
      { ...nginx, Volumes: { "/var/cache/nginx": {} } },
      { ExposedPorts: { "443/tcp": {} }, Volumes: { "/data": {} } },
    );
    expect(Object.keys(m.ExposedPorts).sort()).toEqual(["443/tcp", "80/tcp"]);
    expect(Object.keys(m.Volumes).sort()).toEqual(["/data", "/var/cache/nginx"]);
    expect(mergeContainerConfig(undefined, { Cmd: ["x"] }).ExposedPorts).toEqual({});
  });
});

describe("mergeContainerConfig: user, working dir, stop signal, healthcheck", () => {
  it("inherits User and StopSignal from the image unless set", () => {
    const image = { ...nginx, User: "nginx" };
    expect(mergeContainerConfig(image, {}).User).toBe("nginx");
    expect(mergeContainerConfig(image, { User: "1000:1000" }).User).toBe("1000:1000");
    expect(mergeContainerConfig(image, {}).StopSignal).toBe("SIGQUIT");
    expect(mergeContainerConfig(image, { StopSignal: "SIGINT" }).StopSignal).toBe("SIGINT");
    expect(mergeContainerConfig({ Cmd: ["x"] }, {}).StopSignal).toBe("SIGTERM");
  });

  it("working dir: the user's, else the image's, cleaned; cwd defaults to /", () => {
    expect(mergeContainerConfig(nginx, {})).toMatchObject({ WorkingDir: "", cwd: "/" });
    expect(mergeContainerConfig({ ...nginx, WorkingDir: "/usr/src/app/" }, {})).toMatchObject({
      WorkingDir: "/usr/src/app",
      cwd: "/usr/src/app",
    });
    expect(mergeContainerConfig({ ...nginx, WorkingDir: "/usr" }, { WorkingDir: "/a/./b/../c" })).toMatchObject({
      WorkingDir: "/a/c",
      cwd: "/a/c",
    });
  });

  it("refuses a relative working dir from the user or the image", () => {
    const msg = "the working directory 'app' is invalid, it needs to be an absolute path";
    expect(errorOf(() => mergeContainerConfig(nginx, { WorkingDir: "app" }))).toBe(msg);
    expect(errorOf(() => mergeContainerConfig({ ...nginx, WorkingDir: "app" }, {}))).toBe(msg);
  });

  it("healthcheck: inherited, or the user's with unset fields from the image", () => {
    const image: ImageRunConfig = {
      ...nginx,
      Healthcheck: { Test: ["CMD-SHELL", "curl -f localhost"], Interval: 30e9, Timeout: 5e9, Retries: 3 },
    };
    expect(mergeContainerConfig(image, {}).Healthcheck).toEqual(image.Healthcheck);
    expect(mergeContainerConfig(image, { Healthcheck: { Interval: 10e9 } }).Healthcheck).toEqual({
      Test: ["CMD-SHELL", "curl -f localhost"],
      Interval: 10e9,
      Timeout: 5e9,
      Retries: 3,
    });
    expect(mergeContainerConfig(image, { Healthcheck: { Test: ["NONE"] } }).Healthcheck?.Test).toEqual(["NONE"]);
    expect(mergeContainerConfig(nginx, {}).Healthcheck).toBeUndefined();
    expect(mergeContainerConfig(nginx, { Healthcheck: { Test: ["CMD", "true"] } }).Healthcheck).toEqual({ Test: ["CMD", "true"] });
  });
});

describe("processEnv", () => {
  it("puts PATH and HOSTNAME first, then the merged env", () => {
    expect(processEnv(["K=V"], { hostname: "abc123def456", tty: false })).toEqual([
      DEFAULT_PATH_ENV,
      "HOSTNAME=abc123def456",
      "K=V",
    ]);
  });

  it("adds TERM=xterm with a TTY unless the env sets TERM", () => {
    expect(processEnv([], { hostname: "h", tty: true })).toEqual([DEFAULT_PATH_ENV, "HOSTNAME=h", "TERM=xterm"]);
    expect(processEnv(["TERM=dumb"], { hostname: "h", tty: true })).toEqual([DEFAULT_PATH_ENV, "HOSTNAME=h", "TERM=dumb"]);
    expect(processEnv([], { hostname: "h", tty: false })).not.toContain("TERM=xterm");
  });

  it("an image or user PATH replaces the default in place", () => {
    const env = processEnv(["PATH=/opt/bin:/usr/bin", "A=1"], { hostname: "h", tty: false });
    expect(env).toEqual(["PATH=/opt/bin:/usr/bin", "HOSTNAME=h", "A=1"]);
    expect(env.filter((e) => e.startsWith("PATH="))).toHaveLength(1);
  });

  it("a user HOSTNAME overrides the default", () => {
    expect(processEnv(["HOSTNAME=custom"], { hostname: "h", tty: false })).toEqual([DEFAULT_PATH_ENV, "HOSTNAME=custom"]);
  });

  it("an entry without '=' unsets the key and is not passed on", () => {
    expect(processEnv(["PATH", "FOO"], { hostname: "h", tty: false })).toEqual(["HOSTNAME=h"]);
  });

  it("a repeated key keeps the last value at its first position", () => {
    expect(processEnv(["A=1", "B=2", "A=3"], { hostname: "h", tty: false })).toEqual([
      DEFAULT_PATH_ENV,
      "HOSTNAME=h",
      "A=3",
      "B=2",
    ]);
  });

  it("composes with the merge", () => {
    const merged = mergeContainerConfig(nginx, { Env: ["K=V"] });
    expect(processEnv(merged.Env, { hostname: "c0ffee", tty: true })).toEqual([
      nginx.Env![0],
      "HOSTNAME=c0ffee",
      "TERM=xterm",
      "K=V",
      "NGINX_VERSION=1.27.0",
    ]);
  });
});
