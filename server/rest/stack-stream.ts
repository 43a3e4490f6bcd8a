import "server-only";
import { randomUUID } from "node:crypto";
import { getFleet } from "../fleet/instance";
import type { OperationProgress } from "../fleet/fleet";
import type { StackApplyAnswer } from "../services/stacks/apply-rollout";
import { toRestError, type RestError } from "./errors";
import type { RestAudit } from "./handler";

// A stack apply or rollback over REST: NDJSON progress lines (each naming its
// service), then one result line. A refusal before any progress (permission,
// the files' problems, the policy) is thrown, so it is a plain JSON error
// with its own status, exactly as the pull stream does.

const NDJSON = "application/x-ndjson; charset=utf-8";

type Outcome = { ok: true; value: StackApplyAnswer } | { ok: false; error: RestError; thrown: unknown };

export async function streamStackApply(o: { userId: string; audit: RestAudit; run: (progressToken: string) => Promise<StackApplyAnswer> }): Promise<Response> {
  const { fleet } = await getFleet();
  const progressToken = randomUUID();
  const key = `${o.userId}:${progressToken}`;
  const encoder = new TextEncoder();
  const pending: string[] = [];
  let sink: ((line: string) => void) | null = null;
  let firstProgress: () => void = () => {};
  const started = new Promise<void>((resolve) => (firstProgress = resolve));

  const listener = (p: OperationProgress) => {
    if (p.key !== key || p.phase === "done" || p.phase === "error") return;
    const line = JSON.stringify({ type: "progress", phase: p.phase, message: p.message, ...(p.service ? { service: p.service } : {}), ...(p.layer ? { layer: p.layer } : {}) }) + "\n";
    if (sink) sink(line);
    else pending.push(line);
    firstProgress();
  };
  fleet.on("progress", listener);

  const running: Promise<Outcome> = o
    .run(progressToken)
    .then(
      (value) => ({ ok: true as const, value }),
      (e: unknown) => ({ ok: false as const, error: toRestError(e), thrown: e }),
    )
    .finally(() => fleet.off("progress", listener));

  const first = await Promise.race([running, started.then(() => null)]);
  if (first && !first.ok) throw first.thrown;
  o.audit.settled = running.then((r) => (r.ok ? (r.value.result === "failed" ? { code: "PRECONDITION_FAILED", message: r.value.error ?? "the apply failed" } as RestError : null) : r.error));

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
      void running.then((r) => {
        sink = null;
        const result = r.ok
          ? { type: "result", ok: true, ...r.value }
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
