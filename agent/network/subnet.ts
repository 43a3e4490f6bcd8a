import { AgentError } from "../errors";

// IPv4 subnets: parsing, membership, overlap, address arithmetic.

export interface Subnet {
  /** Network address as a 32-bit unsigned number. */
  base: number;
  prefix: number;
  cidr: string;
}

export class SubnetError extends AgentError<"INVALID"> {
  override name = "SubnetError";
  constructor(message: string) {
    super("INVALID", message);
  }
}

export function ipToNumber(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new SubnetError(`invalid IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function parseSubnet(cidr: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new SubnetError(`invalid subnet "${cidr}": expected an IPv4 CIDR such as 172.30.0.0/24`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw new SubnetError(`invalid subnet "${cidr}": the prefix must be between /8 and /30`);
  const addr = ipToNumber(m[1]!);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (addr & mask) >>> 0;
  if (base !== addr) throw new SubnetError(`invalid subnet "${cidr}": host bits are set (did you mean ${numberToIp(base)}/${prefix}?)`);
  return { base, prefix, cidr: `${numberToIp(base)}/${prefix}` };
}

export const size = (s: Subnet) => 2 ** (32 - s.prefix);

export function contains(s: Subnet, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= s.base && n < s.base + size(s);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** The first usable address: Docker's default gateway. */
export const gatewayOf = (s: Subnet) => numberToIp(s.base + 1);
