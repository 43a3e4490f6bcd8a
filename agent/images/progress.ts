// Pull/push progress, in the shape the Docker API streams (and the console draws as bars).
export interface ProgressEvent {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

export type ProgressSink = (event: ProgressEvent) => void;

export const noProgress: ProgressSink = () => {};

/** Throttles "Downloading"/"Extracting"/"Pushing" updates per layer to one per `ms`, keeping the last. */
export function throttledProgress(sink: ProgressSink, ms = 100): ProgressSink {
  const last = new Map<string, number>();
  return (event) => {
    const key = `${event.id ?? ""} ${event.status}`;
    const total = event.progressDetail?.total;
    const done = total !== undefined && event.progressDetail?.current === total;
    if (event.progressDetail && !done) {
      const now = Date.now();
      if (now - (last.get(key) ?? 0) < ms) return;
      last.set(key, now);
    }
    sink(event);
  };
}
