// Pull/push progress, in the shape the Docker API streams (and the console draws as bars).
export interface ProgressEvent {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

export type ProgressSink = (event: ProgressEvent) => void;

export const noProgress: ProgressSink = () => {};
