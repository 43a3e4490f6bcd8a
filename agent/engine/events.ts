import { EventEmitter } from "node:events";

// The engine's event stream, in the shape of Docker's /events messages.

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
  /** Recent events, for /events?since=… */
  private readonly recent: EngineEvent[] = [];

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(type: EngineEvent["Type"], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const nanos = process.hrtime.bigint() % 1_000_000n;
    const now = Date.now();
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: "local",
      time: Math.floor(now / 1000),
      timeNano: Number(BigInt(now) * 1_000_000n + nanos),
      status: action,
      id,
      ...(attributes.image ? { from: attributes.image } : {}),
    };
    this.recent.push(event);
    if (this.recent.length > HISTORY) this.recent.shift();
    this.emitter.emit("event", event);
    return event;
  }

  since(unixSeconds: number): EngineEvent[] {
    return this.recent.filter((e) => e.time >= unixSeconds);
  }

  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.emitter.on("event", listener);
    return () => this.emitter.off("event", listener);
  }
}
