import { describe, expect, it } from "vitest";
import { parseCreateRequest } from "../../../lib/docker/create-request";
import { collectMounts } from "../../../lib/docker/mounts";
import { toCreateBody } from "../../../lib/deploy/create-body";
import { parseDockerRun } from "../../../lib/deploy/docker-run/parse";
import { type DeploySpecInput, deploySpecSchema } from "../../../lib/deploy/spec";

function bodyOf(input: DeploySpecInput | string) {
  const spec = deploySpecSchema.parse(typeof input === "string" ? parseDockerRun(input).spec : input);
  const body = toCreateBody(spec);
  // What the agent does with it: its zod schema and dockerd's checks, then its mount parser.
  const accepted = parseCreateRequest(body, { numCpus: 8 });
  const host = accepted.HostConfig ?? {};
  collectMounts({ binds: host.Binds ?? [], mounts: host.Mounts ?? [], tmpfs: host.Tmpfs ?? {}, imageVolumes: [] });
  return body;
}

describe("toCreateBody", () => {
  it("maps ports, env, limits and the restart policy to the Docker shapes", () => {
    const body = bodyOf(
      "docker run -d --name web -p 8080:80 -p 127.0.0.1:8443:443 -p 53/udp -e A=1 -e B=x=y -m 512m --cpus 1.5 --pids-limit 100 --restart on-failure:3 nginx:1.27",
    );
    expect(body).toEqual({
      Image: "nginx:1.27",
      Env: ["A=1", "B=x=y"],
      ExposedPorts: { "80/tcp": {}, "443/tcp": {}, "53/udp": {} },
      HostConfig: {
        NetworkMode: "default",
        RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
        Privileged: false,
        ReadonlyRootfs: false,
        PortBindings: {
          "80/tcp": [{ HostIp: "", HostPort: "8080" }],
          "443/tcp": [{ HostIp: "127.0.0.1", HostPort: "8443" }],
          "53/udp": [{ HostIp: "", HostPort: "" }],
        },
        Memory: 512 * 1024 * 1024,
        NanoCpus: 1_500_000_000,
        PidsLimit: 100,
      },
    });
  });

  it("binds one container port to several host ports in one list", () => {
    const body = bodyOf("docker run -p 8080:80 -p [::1]:8081:80 nginx");
    expect((body.HostConfig as Record<string, unknown>).PortBindings).toEqual({
      "80/tcp": [
        { HostIp: "", HostPort: "8080" },
        { HostIp: "::1", HostPort: "8081" },
      ],
    });
    expect(body.ExposedPorts).toEqual({ "80/tcp": {} });
  });

  it("gives the health check in nanoseconds", () => {
    const body = bodyOf(
      "docker run --health-cmd 'pg_isready -U app' --health-interval 10s --health-timeout 1.5s --health-start-period 1m --health-retries 5 postgres:16",
    );
    expect(body.Healthcheck).toEqual({
      Test: ["CMD-SHELL", "pg_isready -U app"],
      Interval: 10_000_000_000,
      Timeout: 1_500_000_000,
      StartPeriod: 60_000_000_000,
      Retries: 5,
    });
    expect(bodyOf("docker run --no-healthcheck nginx").Healthcheck).toEqual({ Test: ["NONE"] });
  });

  it("sends mounts as -v and --tmpfs would (Binds, Tmpfs), and as Mounts where a path holds a colon", () => {
    const body = bodyOf({
      image: "app",
      mounts: [
        { type: "volume", source: "data", target: "/data" },
        { type: "bind", source: "/etc/app", target: "/etc/app", readOnly: true },
        { type: "volume", target: "/cache", readOnly: true },
        { type: "tmpfs", target: "/run", sizeBytes: 64 * 1024 * 1024 },
        { type: "tmpfs", target: "/tmp" },
        { type: "bind", source: "/srv/a:b", target: "/a" },
        { type: "volume", source: "logs", target: "/var/log:x", readOnly: true },
      ],
    });
    expect(body.HostConfig).toMatchObject({
      Binds: ["data:/data", "/etc/app:/etc/app:ro", "/cache:ro"],
      Tmpfs: { "/run": "size=67108864", "/tmp": "" },
      Mounts: [
        { Type: "bind", Source: "/srv/a:b", Target: "/a", ReadOnly: false },
        { Type: "volume", Source: "logs", Target: "/var/log:x", ReadOnly: true },
      ],
    });
  });

  it("maps command, entrypoint, user, workdir, hostname and labels", () => {
    const body = bodyOf(
      `docker run --entrypoint /bin/sh -u 1000:1000 -w /app -h api -l team=core alpine:3.20 -c 'echo "hi there"'`,
    );
    expect(body).toMatchObject({
      Image: "alpine:3.20",
      Entrypoint: ["/bin/sh"],
      Cmd: ["-c", 'echo "hi there"'],
      User: "1000:1000",
      WorkingDir: "/app",
      Hostname: "api",
      Labels: { team: "core" },
    });
    // --entrypoint "" reaches Docker as [""]: no entrypoint and no image Cmd.
    expect(bodyOf(`docker run --entrypoint "" busybox echo hi`)).toMatchObject({ Entrypoint: [""], Cmd: ["echo", "hi"] });
    expect(bodyOf("docker run nginx")).not.toHaveProperty("Entrypoint");
    expect(bodyOf("docker run nginx")).not.toHaveProperty("Cmd");
  });

  it("maps privileges, capabilities, namespaces and devices", () => {
    const body = bodyOf(
      "docker run --privileged --read-only --cap-add NET_ADMIN --cap-drop ALL --pid host --ipc host --device /dev/fuse --device /dev/sda:/dev/xvda:r busybox",
    );
    expect(body.HostConfig).toMatchObject({
      Privileged: true,
      ReadonlyRootfs: true,
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["ALL"],
      PidMode: "host",
      IpcMode: "host",
      Devices: [
        { PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" },
        { PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "r" },
      ],
    });
  });

  it("puts aliases in EndpointsConfig for a user network only", () => {
    const body = bodyOf("docker run --network backend --network-alias cache --network-alias redis redis:7");
    expect(body.HostConfig).toMatchObject({ NetworkMode: "backend" });
    expect(body.NetworkingConfig).toEqual({ EndpointsConfig: { backend: { Aliases: ["cache", "redis"] } } });
    // The schema allows aliases on the default network; the agent would refuse them, so they are left out.
    const onBridge = bodyOf({ image: "redis:7", network: "bridge", aliases: ["cache"] });
    expect(onBridge).not.toHaveProperty("NetworkingConfig");
    expect(bodyOf("docker run --network host nginx").HostConfig).toMatchObject({ NetworkMode: "host" });
  });

  it("sends a retry count only with on-failure, as dockerd requires", () => {
    const body = bodyOf({ image: "nginx", restartPolicy: { name: "always", maximumRetryCount: 4 } });
    expect((body.HostConfig as Record<string, unknown>).RestartPolicy).toEqual({ Name: "always", MaximumRetryCount: 0 });
  });

  it("rounds NanoCpus to an integer", () => {
    const body = bodyOf({ image: "nginx", cpus: 0.1 + 0.2 });
    expect((body.HostConfig as Record<string, unknown>).NanoCpus).toBe(300_000_000);
  });
});
