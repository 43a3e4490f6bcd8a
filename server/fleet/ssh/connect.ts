import { Client, type ConnectConfig } from "ssh2";
import { FleetError } from "../errors";
import { fingerprintOf } from "./fingerprint";
import type { SshTarget } from "./target";

export interface SshConnectOptions {
  /** The pinned fingerprint; null accepts any key (first contact, before the user confirms it). */
  pinned: string | null;
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
 * Connects and authenticates. The host key is checked before any credential
 * is sent: a key other than the pinned one ends the handshake with
 * HOST_KEY_CHANGED, carrying the fingerprint the host presented.
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
        return options.pinned === null || presented === options.pinned;
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
      if (presented && options.pinned !== null && presented !== options.pinned) {
        finish(
          new FleetError(
            "HOST_KEY_CHANGED",
            `${where(target)} presented host key ${presented}, not the pinned ${options.pinned}. The connection was refused; someone with hosts.manage must check and re-pin it.`,
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
