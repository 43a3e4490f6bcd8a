import "server-only";
import { Client, type ConnectConfig } from "ssh2";
import { FleetError } from "../errors";
import { fingerprintOf } from "./fingerprint";
import type { SshTarget } from "./target";

export interface SshConnectOptions {
  /** The pinned fingerprint. */
  pinned: string;
  timeoutMs: number;
  keepaliveMs?: number;
  keepaliveCountMax?: number;
}

export interface SshSession {
  client: Client;
  fingerprint: string;
}

function where(t: SshTarget): string {
  return `${t.address}:${t.port}`;
}

/** ssh2's errors, translated into what the user should do about them. */
function explain(t: SshTarget, err: Error & { level?: string; code?: string }, timeoutMs: number): FleetError {
  const code = err.code ?? "";
  if (code === "ECONNREFUSED") return new FleetError("UNREACHABLE", `Connection refused by ${where(t)}: is sshd running on that port?`);
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return new FleetError("UNREACHABLE", `${t.address} is unreachable from the gateway (${code}).`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new FleetError("UNREACHABLE", `The name ${t.address} does not resolve.`);
  if (err.level === "client-timeout" || code === "ETIMEDOUT" || /timed out/i.test(err.message)) {
    return new FleetError("TIMEOUT", `${where(t)} did not answer within ${Math.round(timeoutMs / 1000)} s.`);
  }
  if (err.level === "client-authentication") {
    return new FleetError("AUTH_REFUSED", `${where(t)} refused ${t.auth.method === "key" ? "the private key" : "the password"} for user "${t.username}".`);
  }
  if (/privateKey|passphrase|Encrypted/i.test(err.message)) return new FleetError("BAD_CREDENTIAL", `The private key can't be used: ${err.message}.`);
  return new FleetError("UNREACHABLE", `SSH to ${where(t)} failed: ${err.message}`);
}

/**
 * First contact: the host's key fingerprint, for the user to confirm, and
 * nothing else. The handshake is ended at the key, before authentication, so
 * no credential ever goes to a host whose key nobody has checked.
 */
export function fetchHostKey(endpoint: Pick<SshTarget, "address" | "port">, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: string | null = null;
    let settled = false;
    const target: SshTarget = { ...endpoint, username: "berth-probe", auth: { method: "password", password: "-" } };
    const finish = (result: string | FleetError) => {
      if (settled) return;
      settled = true;
      client.removeAllListeners("ready");
      client.on("error", () => {});
      client.end();
      if (typeof result === "string") resolve(result);
      else reject(result);
    };
    client.on("error", (err: Error & { level?: string; code?: string }) => finish(presented ?? explain(target, err, timeoutMs)));
    client.once("close", () => finish(presented ?? new FleetError("UNREACHABLE", `${where(target)} closed the connection during the handshake.`)));
    // Never reached: the verifier below refuses every key. Belt and braces.
    client.once("ready", () => finish(new FleetError("UNREACHABLE", "unexpected login during a key probe")));
    client.connect({
      host: endpoint.address,
      port: endpoint.port,
      username: target.username,
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        presented = fingerprintOf(key);
        return false;
      },
      authHandler: () => false,
    });
  });
}

/**
 * Connects and authenticates against a pinned key. ssh2 checks the host key
 * before any credential is sent: a key other than the pinned one ends the
 * handshake with HOST_KEY_CHANGED, carrying the fingerprint the host presented.
 */
export function connectSsh(target: SshTarget, options: SshConnectOptions): Promise<SshSession> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: string | null = null;
    let settled = false;
    const finish = (err: FleetError | null) => {
      if (settled) return;
      settled = true;
      if (err) {
        client.removeAllListeners("ready");
        client.on("error", () => {});
        client.end();
        reject(err);
      } else resolve({ client, fingerprint: presented! });
    };
    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      username: target.username,
      readyTimeout: options.timeoutMs,
      keepaliveInterval: options.keepaliveMs ?? 0,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      hostVerifier: (key: Buffer) => {
        presented = fingerprintOf(key);
        return presented === options.pinned;
      },
      ...(target.auth.method === "key"
        ? { privateKey: target.auth.privateKey, passphrase: target.auth.passphrase || undefined }
        : { password: target.auth.password, tryKeyboard: false }),
    };
    client.once("ready", () => {
      // Agent calls are small request/response exchanges: without this, Nagle + delayed ACK stall some by ~40 ms.
      client.setNoDelay(true);
      finish(null);
    });
    client.on("error", (err: Error & { level?: string; code?: string }) => {
      if (presented && presented !== options.pinned) {
        finish(
          new FleetError(
            "HOST_KEY_CHANGED",
            `${where(target)} presented host key ${presented}, not the pinned ${options.pinned}. The connection was refused before any credential was sent. Berth keeps checking and reconnects by itself if the pinned key comes back; to trust the new key, someone with hosts.manage must check and re-pin it.`,
            { presentedFingerprint: presented },
          ),
        );
        return;
      }
      finish(explain(target, err, options.timeoutMs));
    });
    client.once("close", () => finish(new FleetError("UNREACHABLE", `${where(target)} closed the connection during the handshake.`)));
    try {
      client.connect(config);
    } catch (e) {
      // ssh2 parses the key synchronously: a bad key or a wrong passphrase lands here.
      finish(new FleetError("BAD_CREDENTIAL", `The private key can't be used: ${e instanceof Error ? e.message : String(e)}.`));
    }
  });
}
