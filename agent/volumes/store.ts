import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { AgentError } from "../errors";
import { writeFileAtomic } from "../state/atomic-write";

// Named volumes with the local driver: ROOT/volumes/<name>/_data plus
// volume.json. Anonymous volumes are the same, with a random 64-hex name and
// a flag, so `rm -v`/`--rm` and prune can tell them apart.

export class VolumeError extends AgentError<"INVALID" | "NOT_FOUND" | "CONFLICT"> {
  override name = "VolumeError";
}

export interface VolumeRecord {
  Name: string;
  Driver: "local";
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: "local";
  /** Created for an image VOLUME or `-v /path`. */
  anonymous: boolean;
  /** The image's content was copied in (or the volume was already in use): never copy again. */
  populated: boolean;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class VolumeStore {
  private readonly dir: string;
  private readonly volumes = new Map<string, VolumeRecord>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    root: string,
    /** Told of each volume created and removed (the agent's event log: docker events). */
    private readonly onEvent?: (action: "create" | "destroy", volume: VolumeRecord) => void,
  ) {
    this.dir = path.join(root, "volumes");
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(".")) {
        // A remove that crashed midway.
        await rm(path.join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      const meta = path.join(this.dir, name, "volume.json");
      if (!existsSync(meta)) {
        await rm(path.join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      this.volumes.set(name, JSON.parse(await readFile(meta, "utf8")) as VolumeRecord);
    }
  }

  list(): VolumeRecord[] {
    return [...this.volumes.values()].sort((a, b) => a.Name.localeCompare(b.Name));
  }

  get(name: string): VolumeRecord {
    const v = this.volumes.get(name);
    if (!v) throw new VolumeError("NOT_FOUND", `get ${name}: no such volume`);
    return v;
  }

  find(name: string): VolumeRecord | undefined {
    return this.volumes.get(name);
  }

  /** Creates the volume, or returns it if it exists (Docker's behaviour). A name-less call makes an anonymous one. */
  create(input: { name?: string; labels?: Record<string, string>; options?: Record<string, string>; driver?: string } = {}): Promise<VolumeRecord> {
    return this.exclusive(async () => {
      if (input.driver && input.driver !== "local") throw new VolumeError("INVALID", `volume driver "${input.driver}" is not supported (only "local")`);
      if (input.options && Object.keys(input.options).length) throw new VolumeError("INVALID", `the local driver takes no options here (got ${Object.keys(input.options).join(", ")})`);
      const anonymous = !input.name;
      const name = input.name ?? randomBytes(32).toString("hex");
      if (!NAME.test(name)) throw new VolumeError("INVALID", `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
      const existing = this.volumes.get(name);
      if (existing) return existing;
      const base = path.join(this.dir, name);
      const record: VolumeRecord = {
        Name: name,
        Driver: "local",
        Mountpoint: path.join(base, "_data"),
        CreatedAt: new Date().toISOString(),
        Labels: input.labels ?? {},
        Options: {},
        Scope: "local",
        anonymous,
        populated: false,
      };
      await mkdir(record.Mountpoint, { recursive: true, mode: 0o755 });
      await writeFileAtomic(path.join(base, "volume.json"), JSON.stringify(record), 0o600);
      this.volumes.set(name, record);
      this.onEvent?.("create", record);
      return record;
    });
  }

  markPopulated(name: string): Promise<void> {
    return this.exclusive(async () => {
      const v = this.volumes.get(name);
      if (!v || v.populated) return;
      v.populated = true;
      await writeFileAtomic(path.join(this.dir, name, "volume.json"), JSON.stringify(v), 0o600);
    });
  }

  /** Removes a volume; `inUseBy` lists the containers using it (refused unless there are none). */
  remove(name: string, inUseBy: string[]): Promise<void> {
    return this.exclusive(async () => {
      const v = this.get(name);
      if (inUseBy.length) throw new VolumeError("CONFLICT", `remove ${name}: volume is in use - [${inUseBy.join(", ")}]`);
      const doomed = path.join(this.dir, `.rm-${randomBytes(6).toString("hex")}`);
      await rename(path.join(this.dir, name), doomed);
      this.volumes.delete(name);
      this.onEvent?.("destroy", v);
      await rm(doomed, { recursive: true, force: true });
    });
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
