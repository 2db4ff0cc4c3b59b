/** IPv4 CIDR arithmetic for the scenario's VPCs and subnets (what JSON Schema cannot compute). */
import { RESERVED_ADDRESSES_PER_SUBNET } from "./spec.js";

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & mask) >>> 0 !== base) return undefined;
  return { base, prefix };
}

/** Free addresses of an empty subnet: its size less the 5 AWS reserves. */
export function subnetCapacity(prefix: number): number {
  return 2 ** (32 - prefix) - RESERVED_ADDRESSES_PER_SUBNET;
}

export function within(inner: Cidr, outer: Cidr): boolean {
  if (inner.prefix < outer.prefix) return false;
  const mask = outer.prefix === 0 ? 0 : (0xffffffff << (32 - outer.prefix)) >>> 0;
  return (inner.base & mask) >>> 0 === outer.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return within(a, b) || within(b, a);
}
