import type { WebhookView } from "@/lib/rollouts/views";

// The webhook form's checks and a webhook's state in words. Pure: no React.

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/(3[0-2]|[12]?\d))?$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*(\/(12[0-8]|1[01]\d|[1-9]?\d))?$/;

/** The allowed-addresses box as CIDRs: split on commas, spaces and lines; the first bad entry named. */
export function parseAddresses(text: string): { cidrs: string[]; error: string | null } {
  const entries = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.find((e) => !IPV4.test(e) && !IPV6.test(e));
  if (bad) return { cidrs: [], error: `“${bad}” is not an address or a network such as 203.0.113.0/24.` };
  if (entries.length > 32) return { cidrs: [], error: "At most 32 addresses." };
  return { cidrs: [...new Set(entries)], error: null };
}

export function webhookState(w: Pick<WebhookView, "revokedAt" | "expiresAt">, now: number): "active" | "revoked" | "expired" {
  if (w.revokedAt) return "revoked";
  if (w.expiresAt && new Date(w.expiresAt).getTime() <= now) return "expired";
  return "active";
}
