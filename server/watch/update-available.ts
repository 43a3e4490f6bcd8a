import "server-only";
import type { Db } from "../db";
import type { FleetServices } from "../fleet/instance";
import { checkTag, followedTag, holdsDigest } from "./tag-digests";

// "Update available", watching or not: a running container whose image was
// given by tag, where the tag's digest in the registry (TagDigest) is not
// among the digests of the image the container runs (its RepoDigests).
//
// The tracker keeps, per host, the RepoDigests of its images (one GET
// /images/json per host per round) and refreshes the TagDigest of the tags
// running containers use: each tag at most once per refresh interval, at most
// `maxChecksPerRound` registry checks a round, one at a time, through a host
// that runs it (so the check sees the registry as that host does), and never
// while its registry is backing off (checkTag obeys TagDigest.retryAfter).

export interface UpdateTrackerOptions {
  /** How old a tag's digest may get before it is asked for again. */
  refreshSeconds: number;
  maxChecksPerRound: number;
}

export const DEFAULT_TRACKER_OPTIONS: UpdateTrackerOptions = { refreshSeconds: 15 * 60, maxChecksPerRound: 25 };

interface HostImages {
  at: number;
  repoDigests: Map<string, string[]>;
}

const MAX_HOSTS_PER_ROUND = 500;

export class UpdateTracker {
  private readonly hosts = new Map<string, HostImages>();

  constructor(private readonly options: UpdateTrackerOptions = DEFAULT_TRACKER_OPTIONS) {}

  /** The RepoDigests the host's image `imageId` had at the last round, or null when unknown. */
  repoDigests(hostId: string, imageId: string | undefined): string[] | null {
    if (!imageId) return null;
    return this.hosts.get(hostId)?.repoDigests.get(imageId) ?? null;
  }

  /** Sets a host's images (from GET /images/json). */
  noteImages(hostId: string, images: { Id: string; RepoDigests?: string[] | null }[]): void {
    this.hosts.set(hostId, { at: Date.now(), repoDigests: new Map(images.map((i) => [i.Id, i.RepoDigests ?? []])) });
  }

  /** One round: every reachable host's images, then the stalest tags' digests. Bounded in hosts and registry checks. */
  async round(db: Db, services: FleetServices, now = new Date()): Promise<{ checked: number }> {
    const hosts = await db.host.findMany({ select: { id: true }, orderBy: { id: "asc" }, take: MAX_HOSTS_PER_ROUND });
    const users = new Map<string, string>(); // tag → a host that runs it
    for (const h of hosts) {
      const snap = services.fleet.snapshot(h.id);
      if (snap.stale || !snap.containers) continue;
      const running = snap.containers.filter((c) => c.State === "running");
      if (running.length === 0) continue;
      try {
        this.noteImages(h.id, await services.fleet.client(h.id).images({ timeoutMs: 10_000 }));
      } catch {
        continue;
      }
      for (const c of running) {
        const tag = followedTag(c.Image);
        if (tag && !users.has(tag)) users.set(tag, h.id);
      }
    }
    for (const id of this.hosts.keys()) if (!hosts.some((h) => h.id === id)) this.hosts.delete(id);
    if (users.size === 0) return { checked: 0 };
    const known = await db.tagDigest.findMany({ where: { reference: { in: [...users.keys()] } } });
    const fresh = new Set(known.filter((r) => now.getTime() - r.checkedAt.getTime() < this.options.refreshSeconds * 1000).map((r) => r.reference));
    const checkedAt = new Map(known.map((r) => [r.reference, r.checkedAt.getTime()]));
    const due = [...users.keys()].filter((t) => !fresh.has(t)).sort((a, b) => (checkedAt.get(a) ?? 0) - (checkedAt.get(b) ?? 0));
    let checked = 0;
    for (const reference of due.slice(0, this.options.maxChecksPerRound)) {
      await checkTag(db, services, { hostId: users.get(reference)!, reference, now }).catch(() => null);
      checked++;
    }
    return { checked };
  }
}

const holder = globalThis as unknown as { berthUpdateTracker?: UpdateTracker };

/** The process's tracker (the background starter's; the containers list reads it). */
export function updateTracker(): UpdateTracker {
  holder.berthUpdateTracker ??= new UpdateTracker();
  return holder.berthUpdateTracker;
}

export function setUpdateTracker(tracker: UpdateTracker): void {
  holder.berthUpdateTracker = tracker;
}

export interface ContainerRef {
  hostId: string;
  image: string;
  imageId?: string;
  state: string;
}

/**
 * Which of `rows` have an update available (by index). One query for the
 * tags' digests; the images' RepoDigests from the tracker's last round.
 */
export async function updatesAvailable(db: Db, rows: ContainerRef[], tracker: UpdateTracker = updateTracker()): Promise<boolean[]> {
  const tags = rows.map((r) => (r.state === "running" ? followedTag(r.image) : null));
  const wanted = [...new Set(tags.filter((t): t is string => t !== null))];
  if (wanted.length === 0) return rows.map(() => false);
  const digests = new Map((await db.tagDigest.findMany({ where: { reference: { in: wanted } }, select: { reference: true, digest: true } })).map((r) => [r.reference, r.digest]));
  return rows.map((r, i) => {
    const tag = tags[i];
    const digest = tag ? digests.get(tag) : null;
    if (!tag || !digest) return false;
    const repoDigests = tracker.repoDigests(r.hostId, r.imageId);
    // An image the host knows no registry digest for (built or loaded there) isn't compared.
    if (!repoDigests || repoDigests.length === 0) return false;
    return !holdsDigest(tag, repoDigests, digest);
  });
}

/** The same for one container, from its inspect answer and its image's RepoDigests (the container page). */
export async function updateAvailableFor(db: Db, image: string, repoDigests: string[] | null | undefined, running: boolean): Promise<boolean> {
  const tag = running ? followedTag(image) : null;
  if (!tag || !repoDigests?.length) return false;
  const row = await db.tagDigest.findUnique({ where: { reference: tag }, select: { digest: true } });
  return Boolean(row?.digest && !holdsDigest(tag, repoDigests, row.digest));
}
