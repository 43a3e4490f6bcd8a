import { EventEmitter } from "node:events";
import { familiarName, parseReference } from "../../lib/image-reference";

// The engine's event stream, in the shape of Docker's /events messages: what
// happened (Type, Action), to what (Actor: ID and Attributes), when. The
// agent keeps the last HISTORY events in memory for `since`/`until` replays,
// as dockerd keeps its last 256; a restarted agent starts an empty log.

export interface EngineEvent {
  Type: "container" | "image" | "network" | "volume";
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  timeNano: number;
  /** Legacy fields the CLI still reads. */
  status?: string;
  id?: string;
  from?: string;
}

const HISTORY = 1000;

export class EventBus {
  private readonly emitter = new EventEmitter();
  /** Recent events, oldest first, for /events?since=…&until=… */
  private readonly recent: EngineEvent[] = [];
  private lastNano = 0;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(type: EngineEvent["Type"], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    // Nanoseconds from the clock's milliseconds and the monotonic clock's sub-millisecond part, never going
    // backwards (a float: Docker's int64 nanoseconds don't fit a JSON number exactly anyway).
    const nano = Math.max(Date.now() * 1e6 + Number(process.hrtime.bigint() % 1_000_000n), this.lastNano);
    this.lastNano = nano;
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: "local",
      time: Math.floor(nano / 1e9),
      timeNano: nano,
      // dockerd's legacy fields are for container and image events only.
      ...(type === "container" || type === "image" ? { status: action, id, ...(attributes.image ? { from: attributes.image } : {}) } : {}),
    };
    this.recent.push(event);
    if (this.recent.length > HISTORY) this.recent.shift();
    this.emitter.emit("event", event);
    return event;
  }

  /**
   * The kept events between `sinceNs` and `untilNs` (inclusive, either may be
   * absent), oldest first — none when both are absent, as dockerd replays
   * only for a client that asks for a time range.
   */
  replay(sinceNs?: bigint, untilNs?: bigint): EngineEvent[] {
    if (sinceNs === undefined && untilNs === undefined) return [];
    return this.recent.filter((e) => (sinceNs === undefined || e.timeNano >= Number(sinceNs)) && (untilNs === undefined || e.timeNano <= Number(untilNs)));
  }

  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.emitter.on("event", listener);
    return () => this.emitter.off("event", listener);
  }
}

/**
 * Docker's event filters (moby daemon/events/filter.go), as a predicate.
 * Every key given must match (AND); the values of one key are alternatives
 * (OR), except `label`, where every value must match. `type`, `scope` and
 * `image` match exactly; `event` too, unless it names health_status,
 * exec_create or exec_start without the part after the colon (then any
 * action starting with it); `container`, `network`, `volume` (and `daemon`,
 * `plugin`, … which never match here) match the actor's ID or name by
 * prefix, whatever the event's type, so `container=web` leaves out other
 * actors' events; `image` matches the image's ID or name (for container
 * events: the container's image), with or without the tag.
 */
export function eventFilter(filters: Map<string, string[]>): (e: EngineEvent) => boolean {
  const values = (key: string) => filters.get(key) ?? [];
  const exact = (key: string, source: string) => values(key).length === 0 || values(key).includes(source);
  const fuzzy = (key: string, source: string) => exact(key, source) || values(key).some((prefix) => source.startsWith(prefix));
  const byName = (key: string, e: EngineEvent) => fuzzy(key, e.Actor.ID) || fuzzy(key, e.Actor.Attributes.name ?? "");
  const fuzzyEvent = values("event").some((v) => v === "health_status" || v === "exec_create" || v === "exec_start");
  const labels = values("label").map((v) => {
    const eq = v.indexOf("=");
    return eq < 0 ? { key: v, value: undefined } : { key: v.slice(0, eq), value: v.slice(eq + 1) };
  });
  return (e) => {
    const imageName = (e.Type === "image" ? e.Actor.Attributes.name : e.Actor.Attributes.image) ?? "";
    return (
      (fuzzyEvent ? fuzzy("event", e.Action) : exact("event", e.Action)) &&
      exact("type", e.Type) &&
      exact("scope", e.scope) &&
      ["daemon", "container", "plugin", "volume", "network", "node", "service", "secret", "config"].every((key) => byName(key, e)) &&
      (exact("image", e.Actor.ID) || exact("image", imageName) || exact("image", stripTag(e.Actor.ID)) || exact("image", stripTag(imageName))) &&
      labels.every(({ key, value }) => key in e.Actor.Attributes && (value === undefined || e.Actor.Attributes[key] === value))
    );
  };
}

/** An image name without its tag or digest, in Docker's short form (`busybox`, `127.0.0.1:5000/team/app`); anything else as it is. */
function stripTag(image: string): string {
  try {
    const ref = parseReference(image, { defaultTag: false });
    return familiarName({ registry: ref.registry, repository: ref.repository });
  } catch {
    return image;
  }
}
