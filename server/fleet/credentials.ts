import "server-only";
import type { SecretBox } from "../secrets/cipher";
import { sshAuthSchema, type SshAuth } from "./ssh/target";

// A host's SSH credential is stored only sealed, and opened only in the gateway process.
const PURPOSE = "host-credential";

export function sealCredential(box: SecretBox, auth: SshAuth): string {
  return box.seal(JSON.stringify(auth), PURPOSE);
}

export function openCredential(box: SecretBox, sealed: string): SshAuth {
  return sshAuthSchema.parse(JSON.parse(box.open(sealed, PURPOSE)));
}
