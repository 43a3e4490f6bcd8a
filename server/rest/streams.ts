import "server-only";
import { randomUUID } from "node:crypto";
import { getFleet } from "../fleet/instance";
import type { OperationProgress } from "../fleet/fleet";
import type { ApiCaller } from "./caller";
import { toRestError, type RestError } from "./errors";
import type { RestAudit } from "./handler";

// The REST answers that stream: image pull progress and the audit export.

const NDJSON = "application/x-ndjson; charset=utf-8";

type PullOutcome = { ok: true; pulled: string } | { ok: false; error: RestError; thrown: unknown };

/**
 * Pulls through images.pull (permission, audit and all) and streams its
 * progress as NDJSON. The status is decided by the first thing that happens:
 * a refusal before any progress (permission, host down, unknown image) is
 * thrown, so it becomes a plain JSON error with its own status.
 */
export async function streamPull(o: {
  caller: ApiCaller;
  userId: string;
  hostId: string;
  reference: string;
  registryId?: string;
  audit: RestAudit;
}): Promise<Response> {
  const { fleet } = await getFleet();
  const progressToken = randomUUID();
  const key = `${o.userId}:${progressToken}`;
  const encoder = new TextEncoder();
  const pending: string[] = [];
  let sink: ((line: string) => void) | null = null;
  let firstProgress: () => void = () => {};
  const started = new Promise<void>((resolve) => (firstProgress = resolve));

  const listener = (p: OperationProgress) => {
    // "done" and "error" are summed up by the result line.
    if (p.key !== key || p.phase === "done" || p.phase === "error") return;
    const line = JSON.stringify({ type: "progress", phase: p.phase, message: p.message, ...(p.layer ? { layer: p.layer } : {}) }) + "\n";
    if (sink) sink(line);
    else pending.push(line);
    // "Pulling from …" comes before the registry is even asked: the answer's status waits for
    // the manifest (the next line), so an unknown image or tag is still a plain JSON error.
    if (!p.message.startsWith("Pulling from ")) firstProgress();
  };
  fleet.on("progress", listener);

  const pulling: Promise<PullOutcome> = o.caller.images
    .pull({ hostId: o.hostId, reference: o.reference, registryId: o.registryId, progressToken })
    .then(
      (r) => ({ ok: true as const, pulled: r.pulled }),
      (e: unknown) => ({ ok: false as const, error: toRestError(e), thrown: e }),
    )
    .finally(() => fleet.off("progress", listener));
  o.audit.target = { type: "image", id: o.reference };
  o.audit.params = { reference: o.reference, registryId: o.registryId ?? null };

  const first = await Promise.race([pulling, started.then(() => null)]);
  if (first && !first.ok) throw first.thrown;
  o.audit.settled = pulling.then((r) => (r.ok ? null : r.error));

  // A client that goes away stops reading; the pull itself finishes on the host (and is audited).
  let gone = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (line: string) => {
        if (gone) return;
        try {
          controller.enqueue(encoder.encode(line));
        } catch {
          gone = true;
        }
      };
      for (const line of pending.splice(0)) send(line);
      sink = send;
      void pulling.then((r) => {
        sink = null;
        const result = r.ok
          ? { type: "result", ok: true, pulled: r.pulled }
          : { type: "result", ok: false, error: { code: r.error.code, message: r.error.code === "INTERNAL" ? "Something went wrong on the server." : r.error.message } };
        send(JSON.stringify(result) + "\n");
        if (!gone) controller.close();
      });
    },
    cancel() {
      gone = true;
    },
  });
  return new Response(body, { headers: { "content-type": NDJSON, "cache-control": "no-store" } });
}

export { auditExportResponse } from "../audit/export-stream";
