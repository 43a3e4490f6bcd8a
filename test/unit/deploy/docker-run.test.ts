import { describe, expect, it } from "vitest";
import { formatDockerRun } from "../../../lib/deploy/docker-run/format";
import { DockerRunParseError, parseDockerRun } from "../../../lib/deploy/docker-run/parse";
import { formatByteSize, formatGoDuration, parseByteSize, parseGoDuration } from "../../../lib/deploy/docker-run/units";
import { type DeploySpec, type DeploySpecInput, deploySpecSchema } from "../../../lib/deploy/spec";

const DIGEST = `sha256:${"ab".repeat(32)}`;

interface Case {
  name: string;
  command: string;
  /** Key fields of the parsed spec (toMatchObject). */
  spec: DeploySpecInput;
  warnings?: string[];
  /** The canonical command (formatDockerRun, secrets shown). */
  canonical: string;
}

const CASES: Case[] = [
  {
    name: "nginx with ports and a restart policy",
    command: "docker run -d --name web -p 8080:80 -p 443:443 --restart unless-stopped nginx:1.27",
    spec: {
      image: "nginx:1.27",
      name: "web",
      ports: [
        { hostPort: 8080, containerPort: 80, protocol: "tcp" },
        { hostPort: 443, containerPort: 443, protocol: "tcp" },
      ],
      restartPolicy: { name: "unless-stopped" },
    },
    canonical: "docker run -d --name web --restart unless-stopped -p 8080:80 -p 443:443 nginx:1.27",
  },
  {
    name: "postgres with env and a named volume on loopback",
    command:
      "docker run -d --name db -e POSTGRES_PASSWORD=s3cret -e POSTGRES_DB=app -v pgdata:/var/lib/postgresql/data -p 127.0.0.1:5432:5432 postgres:16-alpine",
    spec: {
      image: "postgres:16-alpine",
      env: [
        { name: "POSTGRES_PASSWORD", value: "s3cret" },
        { name: "POSTGRES_DB", value: "app" },
      ],
      mounts: [{ type: "volume", source: "pgdata", target: "/var/lib/postgresql/data", readOnly: false }],
      ports: [{ hostIp: "127.0.0.1", hostPort: 5432, containerPort: 5432, protocol: "tcp" }],
    },
    canonical:
      "docker run -d --name db -p 127.0.0.1:5432:5432 -e POSTGRES_PASSWORD=s3cret -e POSTGRES_DB=app -v pgdata:/var/lib/postgresql/data postgres:16-alpine",
  },
  {
    name: "a read-only bind mount, a sized tmpfs and a read-only root",
    command: "docker run -d -v /srv/site:/usr/share/nginx/html:ro --tmpfs /var/cache/nginx:rw,size=64m --read-only nginx:alpine",
    spec: {
      image: "nginx:alpine",
      mounts: [
        { type: "bind", source: "/srv/site", target: "/usr/share/nginx/html", readOnly: true },
        { type: "tmpfs", target: "/var/cache/nginx", sizeBytes: 64 * 1024 * 1024 },
      ],
      readOnlyRootfs: true,
    },
    canonical: "docker run -d -v /srv/site:/usr/share/nginx/html:ro --tmpfs /var/cache/nginx:size=64m --read-only nginx:alpine",
  },
  {
    name: "memory, cpus and pids limits (the last --memory wins)",
    command: "docker run -d -m 512m --cpus 1.5 --pids-limit 200 --memory=1GiB redis:7",
    spec: { image: "redis:7", memoryBytes: 1024 ** 3, cpus: 1.5, pidsLimit: 200 },
    canonical: "docker run -d --memory 1g --cpus 1.5 --pids-limit 200 redis:7",
  },
  {
    name: "entrypoint override with command args holding quotes and spaces",
    command: `docker run --rm -it --entrypoint /bin/sh alpine:3.20 -c 'echo "hello world" && sleep 3600'`,
    spec: { image: "alpine:3.20", entrypoint: ["/bin/sh"], command: ["-c", 'echo "hello world" && sleep 3600'] },
    warnings: [
      "--rm ignored: a deployment keeps its container so it can restart and be redeployed",
      "-i ignored: a deployment doesn't attach to stdin",
      "-t ignored: a deployment has no terminal",
    ],
    canonical: `docker run -d --entrypoint /bin/sh alpine:3.20 -c 'echo "hello world" && sleep 3600'`,
  },
  {
    name: "user, workdir, hostname and labels",
    command:
      'docker run -d -u 1000:1000 -w /app -h api.internal -l com.example.team=payments --label "com.example.desc=Payments API" --label=com.example.flag ghcr.io/acme/api:2.3.1 serve --port 8080',
    spec: {
      image: "ghcr.io/acme/api:2.3.1",
      user: "1000:1000",
      workingDir: "/app",
      hostname: "api.internal",
      labels: { "com.example.team": "payments", "com.example.desc": "Payments API", "com.example.flag": "" },
      command: ["serve", "--port", "8080"],
    },
    canonical:
      "docker run -d --hostname api.internal --user 1000:1000 --workdir /app --label com.example.team=payments --label 'com.example.desc=Payments API' --label com.example.flag= ghcr.io/acme/api:2.3.1 serve --port 8080",
  },
  {
    name: "a user network with aliases (--net / --net-alias spellings)",
    command: "docker run -d --net backend --net-alias cache --network-alias=redis-primary redis:7",
    spec: { image: "redis:7", network: "backend", aliases: ["cache", "redis-primary"] },
    canonical: "docker run -d --network backend --network-alias cache --network-alias redis-primary redis:7",
  },
  {
    name: "capabilities, privileged, devices, host namespaces and a read-only root",
    command:
      "docker run -d --privileged --cap-add NET_ADMIN --cap-drop ALL --device /dev/fuse --device=/dev/ttyUSB0:/dev/ttyACM0:rw --device /dev/snd:r --read-only --pid host --ipc=host busybox:1.36 sleep infinity",
    spec: {
      image: "busybox:1.36",
      privileged: true,
      capAdd: ["NET_ADMIN"],
      capDrop: ["ALL"],
      devices: [
        { hostPath: "/dev/fuse", permissions: "rwm" },
        { hostPath: "/dev/ttyUSB0", containerPath: "/dev/ttyACM0", permissions: "rw" },
        { hostPath: "/dev/snd", permissions: "r" },
      ],
      readOnlyRootfs: true,
      pidMode: "host",
      ipcMode: "host",
      command: ["sleep", "infinity"],
    },
    canonical:
      "docker run -d --privileged --cap-add NET_ADMIN --cap-drop ALL --pid host --ipc host --device /dev/fuse --device /dev/ttyUSB0:/dev/ttyACM0:rw --device /dev/snd:r --read-only busybox:1.36 sleep infinity",
  },
  {
    name: "health check flags with Go durations",
    command: `docker run -d --health-cmd "curl -fsS http://localhost:8080/healthz || exit 1" --health-interval 1m30s --health-timeout 500ms --health-start-period 0s --health-retries 3 myorg/app@${DIGEST}`,
    spec: {
      image: `myorg/app@${DIGEST}`,
      healthcheck: {
        test: ["CMD-SHELL", "curl -fsS http://localhost:8080/healthz || exit 1"],
        intervalSeconds: 90,
        timeoutSeconds: 0.5,
        startPeriodSeconds: 0,
        retries: 3,
      },
    },
    canonical: `docker run -d --health-cmd 'curl -fsS http://localhost:8080/healthz || exit 1' --health-interval 1m30s --health-timeout 500ms --health-start-period 0s --health-retries 3 myorg/app@${DIGEST}`,
  },
  {
    name: "docker container run with line continuations (LF and CRLF), long flags and = forms",
    command: [
      "docker container run \\",
      "  --detach \\",
      "  --name=grafana \\",
      "  --publish 3000:3000/tcp \\\r",
      "  --volume grafana-storage:/var/lib/grafana \\",
      `  --env "GF_SECURITY_ADMIN_PASSWORD=pa ss'word" \\`,
      "  --restart=on-failure:5 \\",
      "  --pull always \\",
      "  grafana/grafana-oss:11.2.0",
    ].join("\n"),
    spec: {
      image: "grafana/grafana-oss:11.2.0",
      name: "grafana",
      ports: [{ hostPort: 3000, containerPort: 3000, protocol: "tcp" }],
      mounts: [{ type: "volume", source: "grafana-storage", target: "/var/lib/grafana", readOnly: false }],
      env: [{ name: "GF_SECURITY_ADMIN_PASSWORD", value: "pa ss'word" }],
      restartPolicy: { name: "on-failure", maximumRetryCount: 5 },
      pullPolicy: "always",
    },
    canonical:
      "docker run -d --name grafana --pull always --restart on-failure:5 -p 3000:3000 -e 'GF_SECURITY_ADMIN_PASSWORD=pa ss'\\''word' -v grafana-storage:/var/lib/grafana grafana/grafana-oss:11.2.0",
  },
  {
    name: "just the flags: udp and IPv6 ports, --mount bind and tmpfs, unexpanded $VAR, a bare -e",
    command:
      "-p 53:53/udp -p [::1]:8053:53 --mount type=bind,src=/etc/coredns,dst=/etc/coredns,readonly --mount type=tmpfs,destination=/tmp,tmpfs-size=16m -e FOO=$HOME -e BAR coredns/coredns:1.11.1 -conf /etc/coredns/Corefile",
    spec: {
      image: "coredns/coredns:1.11.1",
      ports: [
        { hostPort: 53, containerPort: 53, protocol: "udp" },
        { hostIp: "::1", hostPort: 8053, containerPort: 53, protocol: "tcp" },
      ],
      mounts: [
        { type: "bind", source: "/etc/coredns", target: "/etc/coredns", readOnly: true },
        { type: "tmpfs", target: "/tmp", sizeBytes: 16 * 1024 * 1024 },
      ],
      env: [{ name: "FOO", value: "$HOME" }],
      command: ["-conf", "/etc/coredns/Corefile"],
    },
    warnings: [
      "'FOO=$HOME' is taken as typed: Berth doesn't expand $VARIABLES, $(…) or backticks",
      "-e BAR skipped: it takes the value from your shell, which Berth can't see; use -e BAR=value",
    ],
    canonical:
      "docker run -d -p 53:53/udp -p '[::1]:8053:53' -e 'FOO=$HOME' -v /etc/coredns:/etc/coredns:ro --tmpfs /tmp:size=16m coredns/coredns:1.11.1 -conf /etc/coredns/Corefile",
  },
  {
    name: "anonymous volumes, --no-healthcheck, an emptied entrypoint, -P, a host port chosen by the agent",
    command: `sudo docker run -dP -p 9000 -v /data -v /opt/conf:ro --entrypoint "" --user=nobody --no-healthcheck busybox`,
    spec: {
      image: "busybox",
      ports: [{ containerPort: 9000, protocol: "tcp" }],
      mounts: [
        { type: "volume", target: "/data", readOnly: false },
        { type: "volume", target: "/opt/conf", readOnly: true },
      ],
      entrypoint: [],
      user: "nobody",
      healthcheck: { test: ["NONE"] },
    },
    warnings: ["-P ignored: publish each port with -p hostPort:containerPort"],
    canonical: "docker run -d -p 9000 -v /data -v /opt/conf:ro --user nobody --no-healthcheck --entrypoint '' busybox",
  },
  {
    name: "combined short flags with attached values, a comment and -- before the image",
    command: [
      "# the worker",
      "docker run -de=QUEUE=jobs -p8081:8080 -m=256m \\",
      "  --restart=always --cpus=.25 -- ghcr.io/acme/worker:1 --concurrency 4",
    ].join("\n"),
    spec: {
      image: "ghcr.io/acme/worker:1",
      env: [{ name: "QUEUE", value: "jobs" }],
      ports: [{ hostPort: 8081, containerPort: 8080, protocol: "tcp" }],
      memoryBytes: 256 * 1024 * 1024,
      restartPolicy: { name: "always" },
      cpus: 0.25,
      command: ["--concurrency", "4"],
    },
    canonical: "docker run -d --restart always -p 8081:8080 -e QUEUE=jobs --memory 256m --cpus 0.25 ghcr.io/acme/worker:1 --concurrency 4",
  },
];

describe("parseDockerRun / formatDockerRun: real-world commands", () => {
  it.each(CASES)("$name", (c) => {
    const { spec, warnings } = parseDockerRun(c.command);
    expect(spec).toMatchObject(c.spec);
    expect(warnings).toEqual(c.warnings ?? []);
    const parsed = deploySpecSchema.parse(spec);

    const formatted = formatDockerRun(parsed, { maskSecrets: false });
    expect(formatted).toBe(c.canonical);

    // parse → format → parse: the same spec; format → parse → format: the same string.
    const again = parseDockerRun(formatted);
    expect(again.warnings).toEqual([]);
    expect(deploySpecSchema.parse(again.spec)).toEqual(parsed);
    expect(formatDockerRun(deploySpecSchema.parse(again.spec), { maskSecrets: false })).toBe(formatted);
  });

  it("fills the schema's defaults for what the command doesn't say", () => {
    const spec = deploySpecSchema.parse(parseDockerRun("docker run nginx").spec);
    expect(spec).toEqual({
      image: "nginx",
      pullPolicy: "missing",
      env: [],
      ports: [],
      mounts: [],
      aliases: [],
      restartPolicy: { name: "no" },
      labels: {},
      privileged: false,
      capAdd: [],
      capDrop: [],
      devices: [],
      readOnlyRootfs: false,
    });
    expect(formatDockerRun(spec)).toBe("docker run -d nginx");
  });

  it("takes everything after the image verbatim, flags included", () => {
    const { spec } = parseDockerRun(`docker run nginx nginx -g "daemon off;" --rm -p 1`);
    expect(spec.command).toEqual(["nginx", "-g", "daemon off;", "--rm", "-p", "1"]);
    expect(spec.ports).toBeUndefined();
  });

  it("reads boolean flags given as --flag=false", () => {
    const { spec, warnings } = parseDockerRun("docker run --privileged=false --read-only=true -d=false nginx");
    expect(spec).toMatchObject({ privileged: false, readOnlyRootfs: true });
    expect(warnings).toEqual(["-d=false ignored: a deployment always runs detached"]);
  });

  it("treats Docker's 'unlimited' values as no limit", () => {
    const { spec } = parseDockerRun("docker run --pids-limit -1 -m 0 --health-cmd true --health-interval 0s nginx");
    expect(spec.pidsLimit).toBeUndefined();
    expect(spec.memoryBytes).toBeUndefined();
    expect(spec.healthcheck).toEqual({ test: ["CMD-SHELL", "true"] });
  });

  it("warns about an --entrypoint holding arguments, which Docker runs as one program name", () => {
    const { spec, warnings } = parseDockerRun(`docker run --entrypoint "/bin/sh -c" alpine`);
    expect(spec.entrypoint).toEqual(["/bin/sh -c"]);
    expect(warnings).toEqual(["--entrypoint '/bin/sh -c' is one program name, as in Docker; put its arguments after the image"]);
  });
});

function errorOf(command: string): string {
  try {
    parseDockerRun(command);
  } catch (e) {
    expect(e).toBeInstanceOf(DockerRunParseError);
    return (e as Error).message;
  }
  throw new Error(`expected ${command} to fail`);
}

describe("parseDockerRun: errors name the flag and value at fault", () => {
  it.each([
    ["docker run -d --foo bar nginx", "unknown flag --foo"],
    ["docker run -dx nginx", "unknown flag -x"],
    ["docker run --shm-size 1g nginx", "--shm-size is not supported in a Berth deployment"],
    ["docker run -a stdout nginx", "-a (--attach) is not supported in a Berth deployment"],
    ["docker run -d -p 8080:80", "missing image: put the image after the flags, e.g. docker run -d -p 8080:80 nginx:1.27"],
    ["", "missing image: put the image after the flags, e.g. docker run -d -p 8080:80 nginx:1.27"],
    ["docker run --name", "--name needs a value"],
    ["docker run -p 8080:http nginx", "-p 8080:http: the container port http is not a number"],
    ["docker run -p 70000:80 nginx", "-p 70000:80: the host port must be between 1 and 65535"],
    ["docker run -p 8000-8010:80 nginx", "-p 8000-8010:80: port ranges are not supported yet; publish each port with its own -p"],
    ["docker run -p 1.2.3.999:80:80 nginx", "-p 1.2.3.999:80:80: 1.2.3.999 is not an IP address"],
    ["docker run -p 80/sctp nginx", "-p 80/sctp: the protocol must be tcp or udp"],
    ["docker run -p ::1:80:80 nginx", "-p ::1:80:80: put an IPv6 address in brackets, e.g. [::1]:8080:80"],
    ["docker run -m 512x nginx", "-m 512x: not a size; use a number with b, k, m or g (e.g. 512m, 2g)"],
    ["docker run --memory 4m nginx", "--memory 4m: at least 6 MiB"],
    ["docker run --env-file .env nginx", "--env-file .env: env files are not supported; paste the variables as -e NAME=value"],
    [`docker run -e "FOO=bar nginx`, `unterminated double quote (") in the command`],
    ["docker run -e 'FOO=bar nginx", "unterminated single quote (') in the command"],
    ["docker run -d nginx | grep x", "shell operator | is not supported: paste a single docker run command"],
    ["docker ps -a", "only docker run can be pasted, not docker ps"],
    [`docker run --name "my app" nginx`, "--name 'my app': use letters, digits, _ . - (starting with a letter or digit)"],
    ["docker run --restart always:3 nginx", "--restart always:3: a maximum retry count only goes with on-failure"],
    ["docker run --restart sometimes nginx", "--restart sometimes: expected no, always, unless-stopped or on-failure[:max-retries]"],
    ["docker run -v ./data:/data nginx", "-v ./data:/data: a host path must be absolute (Berth can't resolve ./data on the host)"],
    ["docker run -v data:relative nginx", "-v data:relative: the path in the container must be absolute"],
    ["docker run -v /a:/b:z nginx", "-v /a:/b:z: option z is not supported (ro or rw)"],
    ["docker run -v /data:/data -v other:/data/ nginx", "-v other:/data/: /data/ is already mounted"],
    ["docker run --mount type=bind,target=/x nginx", "--mount type=bind,target=/x: a bind mount needs source=/host/path"],
    ["docker run --mount type=npipe,target=/x nginx", "--mount type=npipe,target=/x: type npipe is not supported (bind, volume or tmpfs)"],
    ["docker run --mount type=volume,src=v,target=/x,volume-nocopy nginx", "--mount type=volume,src=v,target=/x,volume-nocopy: option volume-nocopy is not supported (type, source, target, readonly, tmpfs-size)"],
    ["docker run --tmpfs /run:exec nginx", "--tmpfs /run:exec: option exec is not supported (size=…)"],
    ["docker run --health-cmd true --health-interval 30 nginx", "--health-interval 30: not a duration (e.g. 30s, 1m30s, 500ms)"],
    ["docker run --health-cmd true --health-timeout 10us nginx", "--health-timeout 10us: must be at least 1ms"],
    ["docker run --health-interval 30s nginx", "--health-interval needs --health-cmd: Berth can't keep the image's own health check test"],
    ["docker run --no-healthcheck --health-cmd true nginx", "--no-healthcheck conflicts with --health-cmd"],
    ["docker run --network-alias foo nginx", "--network-alias foo: network aliases need a user-defined --network"],
    ["docker run --network container:db nginx", "--network container:db: sharing another container's network is not supported"],
    [`docker run --cap-add "NET ADMIN" nginx`, "--cap-add 'NET ADMIN': a capability such as NET_ADMIN"],
    [`docker run --user "root user" nginx`, "--user 'root user': user, uid, user:group or uid:gid"],
    ["docker run -h bad_host nginx", "-h bad_host: not a valid hostname"],
    ["docker run -w relative nginx", "-w relative: must be an absolute path"],
    ["docker run --privileged=yes nginx", "--privileged=yes: expected true or false"],
    ["docker run --cpus 0 nginx", "--cpus 0: must be more than 0"],
    ["docker run --cpus 0.0000000001 nginx", "--cpus 0.0000000001: too precise (at most 9 decimals)"],
    ["docker run --pid container:x nginx", "--pid container:x: only --pid host is supported"],
    ["docker run --pull sometimes nginx", "--pull sometimes: expected always, missing or never"],
    ["docker run --device /dev/x:/dev/y:rwx nginx", "--device /dev/x:/dev/y:rwx: permissions must be a combination of r, w and m"],
    ["docker run Nginx", 'image: invalid reference "Nginx": repository names must be lowercase'],
  ])("%s", (command, message) => {
    expect(errorOf(command)).toBe(message);
  });
});

describe("formatDockerRun", () => {
  const full = deploySpecSchema.parse({
    image: "registry.example.com:5000/team/app:2.0",
    pullPolicy: "never",
    registryId: "reg_1",
    name: "app",
    command: ["--config", "/etc/app/app.yaml", "it's"],
    entrypoint: ["/usr/bin/tini", "--"],
    workingDir: "/srv/app dir",
    user: "app:app",
    hostname: "app-1",
    env: [
      { name: "LOG_LEVEL", value: "debug" },
      { name: "DB_PASSWORD", value: "hunter2 $x", secret: true },
      { name: "EMPTY", value: "" },
    ],
    ports: [
      { hostIp: "0.0.0.0", hostPort: 80, containerPort: 8080 },
      { hostIp: "10.0.0.5", containerPort: 9090, protocol: "udp" },
      { hostIp: "fe80::1", hostPort: 8443, containerPort: 443 },
    ],
    mounts: [
      { type: "volume", source: "app-data", target: "/var/lib/app" },
      { type: "bind", source: "/etc/app", target: "/etc/app", readOnly: true },
      { type: "bind", source: "/srv/odd:dir", target: "/mnt/odd,dir", readOnly: true },
      { type: "volume", target: "/cache" },
      { type: "tmpfs", target: "/run/app" },
      { type: "tmpfs", target: "/run:x", sizeBytes: 1000 },
    ],
    network: "backend",
    aliases: ["app", "api"],
    restartPolicy: { name: "on-failure" },
    memoryBytes: 768 * 1024 * 1024,
    cpus: 0.000001,
    pidsLimit: 64,
    labels: { "com.example.env": "prod", empty: "" },
    privileged: false,
    capAdd: ["SYS_PTRACE"],
    capDrop: ["NET_RAW", "MKNOD"],
    devices: [{ hostPath: "/dev/kvm", containerPath: "/dev/kvm", permissions: "rw" }],
    readOnlyRootfs: true,
    healthcheck: { test: ["CMD-SHELL", "wget -qO- localhost:8080"], intervalSeconds: 3600, timeoutSeconds: 1.25, startPeriodSeconds: 0.001, retries: 0 },
  } satisfies DeploySpecInput);

  it("writes a full spec canonically, masking secrets by default", () => {
    expect(formatDockerRun(full)).toBe(
      [
        "docker run -d --name app --pull never --restart on-failure",
        "-p 0.0.0.0:80:8080 -p 10.0.0.5::9090/udp -p '[fe80::1]:8443:443'",
        "-e LOG_LEVEL=debug -e DB_PASSWORD=•••••• -e EMPTY=",
        "-v app-data:/var/lib/app -v /etc/app:/etc/app:ro --mount 'type=bind,source=/srv/odd:dir,\"target=/mnt/odd,dir\",readonly'",
        "-v /cache --tmpfs /run/app --mount type=tmpfs,target=/run:x,tmpfs-size=1000",
        "--network backend --network-alias app --network-alias api --hostname app-1 --user app:app --workdir '/srv/app dir'",
        "--label com.example.env=prod --label empty= --memory 768m --cpus 0.000001 --pids-limit 64",
        "--cap-add SYS_PTRACE --cap-drop NET_RAW --cap-drop MKNOD --device /dev/kvm:/dev/kvm:rw --read-only",
        "--health-cmd 'wget -qO- localhost:8080' --health-interval 1h --health-timeout 1.25s --health-start-period 1ms --health-retries 0",
        "--entrypoint /usr/bin/tini registry.example.com:5000/team/app:2.0 -- --config /etc/app/app.yaml 'it'\\''s'",
      ].join(" "),
    );
    expect(formatDockerRun(full, { maskSecrets: false })).toContain("-e 'DB_PASSWORD=hunter2 $x'");
  });

  it("round-trips a full spec but for what a command line can't say", () => {
    const again = deploySpecSchema.parse(parseDockerRun(formatDockerRun(full, { maskSecrets: false })).spec);
    // Secrets are not a docker run notion, nor is a saved registry; a multi-word
    // entrypoint keeps its first word and the rest leads the command (the same argv).
    const { registryId: _registryId, ...rest } = full;
    expect(again).toEqual({
      ...rest,
      env: full.env.map((e) => ({ ...e, secret: false })),
      entrypoint: ["/usr/bin/tini"],
      command: ["--", ...full.command!],
    });
    expect(formatDockerRun(again, { maskSecrets: false })).toBe(formatDockerRun(full, { maskSecrets: false }));
  });

  it("writes a ['CMD', …] health test as --health-cmd", () => {
    const spec = deploySpecSchema.parse({ image: "app", healthcheck: { test: ["CMD", "curl", "-f", "http://localhost/a b"] } });
    expect(formatDockerRun(spec)).toBe("docker run -d --health-cmd 'curl -f '\\''http://localhost/a b'\\''' app");
    expect(parseDockerRun(formatDockerRun(spec)).spec.healthcheck).toEqual({
      test: ["CMD-SHELL", "curl -f 'http://localhost/a b'"],
    });
  });

  it("writes a secret whose name needs quoting", () => {
    const spec = deploySpecSchema.parse({ image: "app", env: [{ name: "MY KEY", value: "v", secret: true }] });
    expect(formatDockerRun(spec)).toBe("docker run -d -e 'MY KEY='•••••• app");
  });
});

describe("sizes and durations", () => {
  it("reads sizes as Docker does (binary units)", () => {
    expect(parseByteSize("512m")).toBe(512 * 1024 ** 2);
    expect(parseByteSize("1.5g")).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize("64MiB")).toBe(64 * 1024 ** 2);
    expect(parseByteSize("2 GB")).toBe(2 * 1024 ** 3);
    expect(parseByteSize("100b")).toBe(100);
    expect(parseByteSize("7340032")).toBe(7340032);
    expect(parseByteSize("1x")).toBeNull();
    expect(parseByteSize("-1m")).toBeNull();
    expect(formatByteSize(1536 * 1024 ** 2)).toBe("1536m");
    expect(formatByteSize(7340033)).toBe("7340033");
  });

  it("reads Go durations and writes them back", () => {
    expect(parseGoDuration("1m30s")).toBe(90e9);
    expect(parseGoDuration("1.5h")).toBe(5400e9);
    expect(parseGoDuration("250ms")).toBe(250e6);
    expect(parseGoDuration("2us")).toBe(2000);
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("30")).toBeNull();
    expect(parseGoDuration("-1s")).toBeNull();
    for (const [seconds, text] of [
      [30, "30s"],
      [90, "1m30s"],
      [3600, "1h"],
      [3661.5, "1h1m1.5s"],
      [0.5, "500ms"],
      [0.0015, "1.5ms"],
      [0, "0s"],
    ] as const) {
      expect(formatGoDuration(seconds)).toBe(text);
      expect(parseGoDuration(text)! / 1e9).toBe(seconds);
    }
  });
});

// A compile-time check that the parse result feeds the schema and the formatter.
const _typed: (s: DeploySpec) => string = (s) => formatDockerRun(deploySpecSchema.parse(parseDockerRun(formatDockerRun(s)).spec));
void _typed;
