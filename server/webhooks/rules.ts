import "server-only";
import { isIP } from "node:net";

// A webhook's own restrictions, checked on every call: a glob on the tag, and
// the addresses (or CIDR blocks, IPv4 and IPv6) calls may come from. Pure.

/** Source addresses or blocks a webhook may list. */
export const MAX_SOURCE_BLOCKS = 32;

const TAG_PATTERN = /^[A-Za-z0-9_.*?-]{1,128}$/;

/** Why a tag pattern can't be used, or null. Patterns are tags with `*` (any run of characters) and `?` (one character). */
export function tagPatternProblem(pattern: string): string | null {
  if (!TAG_PATTERN.test(pattern)) return `"${pattern.slice(0, 140)}" is not a tag pattern: use letters, digits, "_", ".", "-", and the wildcards "*" and "?" (at most 128 characters)`;
  return null;
}

/**
 * Whether `tag` matches the glob. Linear in practice: the classic two-pointer
 * wildcard match, backtracking only to the last `*` (no regular expression,
 * so no pattern can make it slow).
 */
export function matchesTagPattern(pattern: string, tag: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < tag.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === tag[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** An address block: the family, the network's bits and the prefix length. */
export interface AddressBlock {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
}

function ipv4Bits(address: string): bigint {
  return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Bits(address: string): bigint {
  let text = address;
  // A trailing dotted quad (::ffff:10.0.0.1) is two groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const v4 = ipv4Bits(quad[1]!);
    text = `${text.slice(0, quad.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail === null ? [] : tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === null ? 0 : missing).fill("0"), ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** An address as (family, bits); IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as the IPv4 address. Null: not an address. */
export function parseAddress(raw: string): { family: 4 | 6; bits: bigint } | null {
  const address = raw.trim().replace(/^\[(.*)\]$/, "$1");
  // Zone ids (fe80::1%eth0) name an interface, not an address a block can hold.
  const family = isIP(address);
  if (family === 4) return { family: 4, bits: ipv4Bits(address) };
  if (family === 6) {
    const bits = ipv6Bits(address);
    if (bits >> 32n === 0xffffn) return { family: 4, bits: bits & 0xffffffffn };
    return { family: 6, bits };
  }
  return null;
}

export type BlockParse = { ok: true; block: AddressBlock; canonical: string } | { ok: false; problem: string };

/** "10.0.0.0/8", "2001:db8::/32", or one address (a /32 or /128). Host bits set after the prefix are refused, naming the block meant. */
export function parseAddressBlock(raw: string): BlockParse {
  const text = raw.trim();
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  if (!address || addressText.includes("%")) return { ok: false, problem: `"${text.slice(0, 80)}" is not an IPv4 or IPv6 address or CIDR block` };
  // ::ffff:10.0.0.0/104 is written as 10.0.0.0/8.
  const mapped = address.family === 4 && isIP(addressText.replace(/^\[(.*)\]$/, "$1")) === 6;
  const width = address.family === 4 ? 32 : 128;
  let prefix = width;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return { ok: false, problem: `"${text.slice(0, 80)}": the prefix length must be a number` };
    prefix = Number(p) - (mapped ? 96 : 0);
    if (prefix < 0 || prefix > width) return { ok: false, problem: `"${text.slice(0, 80)}": the prefix length must be between 0 and ${mapped ? 128 : width}` };
  }
  const hostBits = BigInt(width - prefix);
  const network = (address.bits >> hostBits) << hostBits;
  const canonical = `${formatBits(address.family, network)}/${prefix}`;
  if (network !== address.bits) return { ok: false, problem: `"${text.slice(0, 80)}" has bits set after the prefix; did you mean ${canonical}?` };
  return { ok: true, block: { family: address.family, bits: network, prefix }, canonical };
}

function formatBits(family: 4 | 6, bits: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 0xffn)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((bits >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // The longest run of zero groups (two or more) becomes "::" (RFC 5952).
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  if (best.at === -1) return groups.join(":");
  return `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.len).join(":")}`;
}

export function blockContains(block: AddressBlock, address: { family: 4 | 6; bits: bigint }): boolean {
  if (block.family !== address.family) return false;
  const hostBits = BigInt((block.family === 4 ? 32 : 128) - block.prefix);
  return address.bits >> hostBits === block.bits >> hostBits;
}

/** Whether a call from `ip` is allowed by `blocks` (empty: from anywhere). An unknown address is refused when any block is set. */
export function addressAllowed(blocks: readonly string[], ip: string | null | undefined): boolean {
  if (blocks.length === 0) return true;
  const address = ip ? parseAddress(ip) : null;
  if (!address) return false;
  return blocks.some((b) => {
    const parsed = parseAddressBlock(b);
    return parsed.ok && blockContains(parsed.block, address);
  });
}
