import path from "node:path";

// Where a container's files are. Under the state root (kept across reboots):
// its record, bundle, root filesystem layers, log and /etc files. Under the
// exec root (tmpfs, cleared by a reboot): runc's and conmon's runtime state,
// the exit files conmon writes, and conmon's sockets.

export class ContainerPaths {
  /** conmon writes <exitDir>/<id> with the exit code when the container exits. */
  readonly exitDir: string;
  /** conmon links <socketDir>/<id> to the bundle; short, since a unix socket path has 107 bytes at most. */
  readonly socketDir: string;

  constructor(
    private readonly containersDir: string,
    private readonly execRoot: string,
  ) {
    this.exitDir = path.join(execRoot, "exits");
    this.socketDir = path.join(execRoot, "s");
  }

  of(id: string) {
    const dir = path.join(this.containersDir, id);
    const run = path.join(this.execRoot, id);
    return {
      dir,
      bundle: path.join(dir, "bundle"),
      rootfs: path.join(dir, "rootfs"),
      upper: path.join(dir, "upper"),
      work: path.join(dir, "work"),
      log: path.join(dir, "ctr.log"),
      persist: path.join(dir, "conmon"),
      hostname: path.join(dir, "hostname"),
      hosts: path.join(dir, "hosts"),
      resolvConf: path.join(dir, "resolv.conf"),
      run,
      pidFile: path.join(run, "pidfile"),
      conmonPidFile: path.join(run, "conmon.pid"),
      runtimeLog: path.join(run, "oci-log"),
      exitFile: path.join(this.exitDir, id),
      /** conmon's SEQPACKET attach socket (stdin in, output out). */
      attachSocket: path.join(this.socketDir, id, "attach"),
      /** conmon's control FIFO (terminal resizes). */
      controlFifo: path.join(dir, "bundle", "ctl"),
    };
  }
}

export type PathsOf = ReturnType<ContainerPaths["of"]>;
