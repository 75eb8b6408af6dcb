import { conferenceHost, FamilyModel, MailSettings, uploadHost } from "../model/family";
import { PRODUCTION_HOST } from "./layout";

/** One hour: long enough for resolvers to cache, short enough to move a family within a morning. */
export const RECORD_TTL = 3600;

interface RecordBase {
    readonly name: string;
    readonly ttl: number;
    /** Why the record exists, in the zone file's comment and README's record table. */
    readonly purpose: string;
}

export type DnsRecord<Address> =
    | (RecordBase & { readonly type: "A" | "AAAA"; readonly address: Address })
    | (RecordBase & {
          readonly type: "SRV";
          readonly priority: number;
          readonly weight: number;
          readonly port: number;
          readonly target: string;
      })
    | (RecordBase & {
          readonly type: "CAA";
          readonly flags: number;
          readonly tag: "issue" | "issuewild";
          readonly value: string;
      })
    | (RecordBase & { readonly type: "MX"; readonly priority: number; readonly target: string })
    | (RecordBase & { readonly type: "TXT"; readonly text: string })
    | (RecordBase & { readonly type: "CNAME"; readonly target: string });

export interface ServerAddresses<Address> {
    readonly ipv4: Address;
    readonly ipv6: Address;
}

/** RFC 6120 §3.2.1: an SRV record with the target "." says the service is not offered at all. */
export const NO_SERVICE = ".";

/**
 * Everything the family's domain publishes. Generic over the address so that the Pulumi component
 * can pass not-yet-known IPs and the zone-file export plain strings.
 */
export function renderDnsRecords<Address>(
    model: FamilyModel,
    addresses: ServerAddresses<Address>,
): DnsRecord<Address>[] {
    return [
        ...hostRecords(model, addresses),
        ...xmppServiceRecords(model),
        ...caaRecords(model),
        ...(model.mail ? mailRecords(model.domain, model.mail) : []),
    ];
}

function hostRecords<Address>(model: FamilyModel, addresses: ServerAddresses<Address>): DnsRecord<Address>[] {
    const hosts: [string, string][] = [
        [model.hostname, "the XMPP server"],
        [conferenceHost(model), "group chat rooms"],
        [uploadHost(model), "shared files"],
    ];
    return hosts.flatMap(([name, what]): DnsRecord<Address>[] => [
        {
            type: "A",
            name,
            ttl: RECORD_TTL,
            address: addresses.ipv4,
            purpose: `${what}, at the server's IPv4 address`,
        },
        {
            type: "AAAA",
            name,
            ttl: RECORD_TTL,
            address: addresses.ipv6,
            purpose: `${what}, at the server's IPv6 address`,
        },
    ]);
}

/**
 * RFC 6120 and XEP-0368 SRV records: direct TLS first (priority 0), STARTTLS as the fallback. The
 * MUC host gets its own server records, so that other servers reach the family's rooms.
 */
function xmppServiceRecords(model: FamilyModel): DnsRecord<never>[] {
    const target = model.hostname;
    const srv = (name: string, priority: number, port: number, purpose: string): DnsRecord<never> => ({
        type: "SRV",
        name,
        ttl: RECORD_TTL,
        priority,
        weight: 5,
        port,
        target,
        purpose,
    });
    const clients = [
        srv(
            `_xmpps-client._tcp.${model.domain}`,
            0,
            PRODUCTION_HOST.listeners.c2sDirectTlsPort,
            `apps, direct TLS, for addresses @${model.domain}`,
        ),
        srv(
            `_xmpp-client._tcp.${model.domain}`,
            5,
            PRODUCTION_HOST.listeners.c2sPort,
            `apps, STARTTLS, for addresses @${model.domain}`,
        ),
    ];
    const federatedNames = [model.domain, conferenceHost(model)];
    if (!model.federation) {
        return [
            ...clients,
            ...federatedNames.map((name): DnsRecord<never> => ({
                type: "SRV",
                name: `_xmpp-server._tcp.${name}`,
                ttl: RECORD_TTL,
                priority: 0,
                weight: 0,
                port: 0,
                target: NO_SERVICE,
                purpose: "federation is switched off: no server-to-server service here",
            })),
        ];
    }
    return [
        ...clients,
        ...federatedNames.flatMap((name) => [
            srv(
                `_xmpps-server._tcp.${name}`,
                0,
                PRODUCTION_HOST.listeners.s2sDirectTlsPort,
                `other servers, direct TLS, for ${name}`,
            ),
            srv(
                `_xmpp-server._tcp.${name}`,
                5,
                PRODUCTION_HOST.listeners.s2sPort,
                `other servers, STARTTLS, for ${name}`,
            ),
        ]),
    ];
}

/** Only Let's Encrypt (and the CAs the family names) may issue certificates for the domain. */
function caaRecords(model: FamilyModel): DnsRecord<never>[] {
    const issuers = ["letsencrypt.org", ...model.certificates.extraCaaIssuers];
    const caa = (tag: "issue" | "issuewild", value: string, purpose: string): DnsRecord<never> => ({
        type: "CAA",
        name: model.domain,
        ttl: RECORD_TTL,
        flags: 0,
        tag,
        value,
        purpose,
    });
    return [
        ...issuers.map((issuer) =>
            caa("issue", issuer, `${issuer} may issue certificates for ${model.domain}`),
        ),
        ...(model.certificates.allowWildcard
            ? issuers.map((issuer) => caa("issuewild", issuer, `${issuer} may issue wildcard certificates`))
            : [caa("issuewild", ";", "nobody may issue wildcard certificates")]),
    ];
}

function mailRecords(domain: string, mail: MailSettings): DnsRecord<never>[] {
    const base = { ttl: RECORD_TTL };
    const records: DnsRecord<never>[] = [
        ...mail.mx.map((mx): DnsRecord<never> => ({
            ...base,
            type: "MX",
            name: domain,
            priority: mx.priority,
            target: mx.host,
            purpose: "where mail for the domain is delivered",
        })),
        {
            ...base,
            type: "TXT",
            name: domain,
            text: `v=spf1 ${mail.spfIncludes.map((include) => `include:${include}`).join(" ")} -all`,
            purpose: "SPF: only the mail provider sends mail for the domain",
        },
        ...mail.dkim.map((key): DnsRecord<never> => ({
            ...base,
            type: "CNAME",
            name: `${key.selector}._domainkey.${domain}`,
            target: key.target,
            purpose: "DKIM: the provider's signing key",
        })),
        {
            ...base,
            type: "TXT",
            name: `_dmarc.${domain}`,
            text: `v=DMARC1; p=${mail.dmarcPolicy};`,
            purpose: "DMARC: what receivers do with mail that fails SPF and DKIM",
        },
    ];
    if (mail.verification) {
        records.unshift({
            ...base,
            type: "TXT",
            name: domain,
            text: `hosted-email-verify=${mail.verification}`,
            purpose: "proves to Migadu that the family owns the domain",
        });
    }
    if (mail.provider === "migadu" && mail.clientDiscovery) {
        const srv = (service: string, port: number, target: string, purpose: string): DnsRecord<never> => ({
            ...base,
            type: "SRV",
            name: `${service}._tcp.${domain}`,
            priority: 0,
            weight: 1,
            port,
            target,
            purpose,
        });
        records.push(
            {
                ...base,
                type: "CNAME",
                name: `autoconfig.${domain}`,
                target: "autoconfig.migadu.com",
                purpose: "mail apps find their settings (Thunderbird)",
            },
            srv("_autodiscover", 443, "autodiscover.migadu.com", "mail apps find their settings (Outlook)"),
            srv("_submissions", 465, "smtp.migadu.com", "RFC 6186: sending mail"),
            srv("_imaps", 993, "imap.migadu.com", "RFC 6186: reading mail (IMAP)"),
            srv("_pop3s", 995, "pop.migadu.com", "RFC 6186: reading mail (POP3)"),
        );
    }
    return records;
}

/** A TXT value as RFC 1035 character strings: quoted, at most 255 bytes each. */
export function txtCharacterStrings(text: string): string {
    const escaped = (part: string) => `"${part.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
    // The limit is in bytes; a character is never cut in two.
    const parts: string[] = [];
    let current = "";
    for (const char of text) {
        if (Buffer.byteLength(current + char, "utf8") > 255) {
            parts.push(current);
            current = "";
        }
        current += char;
    }
    if (current.length > 0) parts.push(current);
    return parts.map(escaped).join(" ");
}

/** The record's data as a zone file writes it. */
export function recordData(record: DnsRecord<string>): string {
    const fqdn = (name: string) => (name === NO_SERVICE ? NO_SERVICE : `${name}.`);
    switch (record.type) {
        case "A":
        case "AAAA":
            return record.address;
        case "SRV":
            return `${record.priority} ${record.weight} ${record.port} ${fqdn(record.target)}`;
        case "CAA":
            return `${record.flags} ${record.tag} "${record.value}"`;
        case "MX":
            return `${record.priority} ${fqdn(record.target)}`;
        case "TXT":
            return txtCharacterStrings(record.text);
        case "CNAME":
            return fqdn(record.target);
    }
}

/** BIND zone-file lines for the records, for families whose DNS is not on Cloudflare. */
export function renderZoneFile(records: readonly DnsRecord<string>[]): string {
    const lines = records.map(
        (record) =>
            `${record.name}.\t${record.ttl}\tIN\t${record.type}\t${recordData(record)}\t; ${record.purpose}`,
    );
    return `; Records published by family-xmpp\n${lines.join("\n")}\n`;
}
