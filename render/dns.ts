import { FamilyModel } from "../model/family";
import { PRODUCTION_LISTENERS } from "./layout";

/** One hour: long enough for resolvers to cache, short enough to move a family within a morning. */
export const RECORD_TTL = 3600;

export type DnsRecord<Address> =
    | { readonly type: "A" | "AAAA"; readonly name: string; readonly ttl: number; readonly address: Address; readonly purpose: string }
    | {
          readonly type: "SRV";
          readonly name: string;
          readonly ttl: number;
          readonly priority: number;
          readonly weight: number;
          readonly port: number;
          readonly target: string;
          readonly purpose: string;
      };

export interface ServerAddresses<Address> {
    readonly ipv4: Address;
    readonly ipv6: Address;
}

/**
 * The records the family's domain publishes. Generic over the address so that the Pulumi component
 * can pass not-yet-known IPs and the zone-file export plain strings.
 */
export function renderDnsRecords<Address>(model: FamilyModel, addresses: ServerAddresses<Address>): DnsRecord<Address>[] {
    const server = model.hostname;
    return [
        { type: "A", name: server, ttl: RECORD_TTL, address: addresses.ipv4, purpose: "the server's IPv4 address" },
        { type: "AAAA", name: server, ttl: RECORD_TTL, address: addresses.ipv6, purpose: "the server's IPv6 address" },
        {
            type: "SRV",
            name: `_xmpp-client._tcp.${model.domain}`,
            ttl: RECORD_TTL,
            priority: 0,
            weight: 5,
            port: PRODUCTION_LISTENERS.c2sPort,
            target: server,
            purpose: `where apps connect for addresses @${model.domain}`,
        },
        {
            type: "SRV",
            name: `_xmpp-server._tcp.${model.domain}`,
            ttl: RECORD_TTL,
            priority: 0,
            weight: 5,
            port: PRODUCTION_LISTENERS.s2sPort,
            target: server,
            purpose: `where other servers deliver messages for @${model.domain}`,
        },
    ];
}

/** BIND zone-file lines for the records, for families whose DNS is not on Cloudflare. */
export function renderZoneFile(records: readonly DnsRecord<string>[]): string {
    const lines = records.map((record) => {
        const data = record.type === "SRV"
            ? `${record.priority} ${record.weight} ${record.port} ${record.target}.`
            : record.address;
        return `${record.name}.\t${record.ttl}\tIN\t${record.type}\t${data}\t; ${record.purpose}`;
    });
    return `; Records published by family-xmpp\n${lines.join("\n")}\n`;
}
