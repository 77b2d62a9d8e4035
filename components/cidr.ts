// IPv4 CIDR arithmetic for splitting a VPC into per-zone subnets. Pure functions.

/** A parsed IPv4 network. */
export interface Ipv4Network {
    /** The address as an unsigned 32-bit number. */
    address: number;
    prefix: number;
    /** Whether the address is the first of its network (e.g. 10.0.0.0/16, not 10.0.1.0/16). */
    aligned: boolean;
    /** The network in canonical form, e.g. "10.24.34.0/23". */
    network: string;
}

/** Parses "a.b.c.d/n" with n from 16 to 28 (the VPC limits); undefined if it is not one. */
export function parseCidr(cidr: string): Ipv4Network | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!match) return undefined;
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((o) => o > 255) || prefix < 16 || prefix > 28) return undefined;
    const address = octets.reduce((acc, o) => acc * 256 + o, 0);
    const start = address - (address % 2 ** (32 - prefix));
    return { address, prefix, aligned: start === address, network: `${formatAddress(start)}/${prefix}` };
}

function formatAddress(address: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

/** The prefix length of each subnet when `network` is split evenly for `count` zones. */
export function subnetPrefix(networkPrefix: number, count: number): number {
    return networkPrefix + Math.ceil(Math.log2(Math.max(count, 1)));
}

/** Splits a VPC network into `count` equal subnets (the next power of two; the rest is left free). */
export function subnetCidrs(vpcCidr: string, count: number): string[] {
    const parsed = parseCidr(vpcCidr);
    if (!parsed || !parsed.aligned) throw new Error(`not an aligned IPv4 network from /16 to /28: ${vpcCidr}`);
    const prefix = subnetPrefix(parsed.prefix, count);
    if (prefix > 28) throw new Error(`${vpcCidr} cannot be split into ${count} subnets of /28 or larger`);
    const size = 2 ** (32 - prefix);
    return Array.from({ length: count }, (_, i) => `${formatAddress(parsed.address + i * size)}/${prefix}`);
}
