import "server-only";
import type http from "node:http";
import { AppError } from "../errors";
import { drainCap } from "../http/limited-request";
import { jsonDepthProblem } from "../http/json-depth";
import type { Approved, ProxyContext } from "./context";
import { createBodyToSpec } from "./create-spec";
import { judgeCreate, judgePrivilegedExec, judgeUpdate } from "./judge";
import { parseNetworkCreate } from "./network-create";
import { parseUpdateBody } from "./update-spec";

// The bodies the proxy reads before forwarding (create, exec create and
// start, volume and network create): parsed strictly, judged, and what the
// audit record should show taken from them. The body forwarded is the body
// judged, re-encoded, so duplicate keys or odd encodings can't differ
// between the proxy's reading and the agent's.

/** The endpoint kinds whose body is read whole and checked before forwarding. */
const BUFFERED = new Set(["create", "execCreate", "execStart", "volumeCreate", "networkCreate", "update"]);

export function isBuffered(a: Approved): boolean {
  return BUFFERED.has(a.match.endpoint.kind);
}

/**
 * docker cp into a container streams a tar of whatever is copied: capped at
 * this many times BERTH_MAX_BODY_BYTES (1 GiB with the default 1 MiB), not at
 * the JSON bodies' cap. Streamed to the agent as it arrives (never held here);
 * the agent keeps it on the host's disk until it has checked every entry.
 */
export const ARCHIVE_BODY_FACTOR = 1024;

/** The most a call's body may hold: archive uploads have their own cap, everything else BERTH_MAX_BODY_BYTES. */
export function bodyLimitOf(ctx: Pick<ProxyContext, "maxBodyBytes">, a: Approved): number {
  return a.match.endpoint.kind === "archiveUpload" ? ctx.maxBodyBytes * ARCHIVE_BODY_FACTOR : ctx.maxBodyBytes;
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `request body is larger than ${maxBytes} bytes`);
}

/** Reads a whole request body under the cap (the declared length was checked already). */
export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      total += c.length;
      if (over) {
        if (total > drainCap(maxBytes)) req.destroy();
        return;
      }
      if (total > maxBytes) {
        over = true;
        return;
      }
      chunks.push(c);
    });
    req.once("end", () => (over ? reject(tooLarge(maxBytes)) : resolve(Buffer.concat(chunks))));
    req.once("error", reject);
  });
}

const invalid = (message: string) => new AppError("BAD_REQUEST", message);

/** What a request's body says that the audit should show (exec's command, a start's detach), and the body to forward. */
export async function prepareBody(ctx: ProxyContext, a: Approved, body: Buffer | null): Promise<Buffer | null> {
  const kind = a.match.endpoint.kind;
  if (!BUFFERED.has(kind)) return body;
  let parsed: unknown = {};
  if (body && body.length) {
    const text = body.toString("utf8");
    const tooDeep = jsonDepthProblem(text);
    if (tooDeep) throw invalid(`invalid JSON in the request body: ${tooDeep}`);
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw invalid(`invalid JSON in the request body: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else if (kind === "create" || kind === "execCreate" || kind === "networkCreate" || kind === "update") {
    throw invalid("invalid body: expected a JSON object");
  }
  if (kind === "update") {
    const update = parseUpdateBody(parsed);
    await judgeUpdate(ctx, a, update);
    return Buffer.from(JSON.stringify(update.body));
  }
  if (kind === "create") {
    // CreateBodyError is a BAD_REQUEST AppError: thrown as it is.
    const judged = await judgeCreate(ctx, a, createBodyToSpec(parsed, a.query.get("name")));
    // --volumes-from names the containers whose mounts were judged, by ID: not whatever holds those names by the time the agent looks.
    if (judged.volumesFrom) (parsed as { HostConfig: { VolumesFrom: string[] } }).HostConfig.VolumesFrom = judged.volumesFrom;
    return Buffer.from(JSON.stringify(parsed));
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw invalid("invalid body: expected a JSON object");
  const o = parsed as Record<string, unknown>;
  if (kind === "networkCreate") {
    if (typeof o.Name === "string") a.params.name = o.Name.slice(0, 256);
    const network = parseNetworkCreate(parsed);
    if (!network.ok) throw invalid(network.message);
    a.params.driver = network.value.Driver || "bridge";
    if (network.value.Internal) a.params.internal = true;
    const subnets = (network.value.IPAM?.Config ?? []).map((c) => c.Subnet).filter(Boolean);
    if (subnets.length) a.params.subnets = subnets;
    return Buffer.from(JSON.stringify(network.value));
  }
  if (kind === "volumeCreate") {
    if (typeof o.Name === "string") a.params.name = o.Name.slice(0, 256);
    // The local driver's options (type=none,o=bind,device=/etc) mount host paths the bind-mount allowlist never sees.
    const driver = typeof o.Driver === "string" ? o.Driver : "";
    const opts = o.DriverOpts && typeof o.DriverOpts === "object" ? Object.keys(o.DriverOpts) : [];
    if ((driver !== "" && driver !== "local") || opts.length) {
      throw invalid("not allowed through the Berth Docker-API proxy: volume drivers and driver options (--driver, --opt)");
    }
    return Buffer.from(JSON.stringify(parsed));
  }
  if (kind === "execCreate") {
    a.params.cmd = Array.isArray(o.Cmd) ? o.Cmd.slice(0, 64) : (o.Cmd ?? null);
    if (o.Privileged === true) a.params.privileged = true;
    if (typeof o.User === "string" && o.User) a.params.user = o.User;
    if (o.Tty === true) a.params.tty = true;
    if (o.Privileged === true) await judgePrivilegedExec(ctx, a);
  } else {
    if (o.Detach === true) a.params.detach = true;
    if (o.Tty === true) a.params.tty = true;
  }
  return body;
}
