import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { FamilyModel } from "../model/family";
import { DnsRecord, renderDnsRecords, txtCharacterStrings } from "../render/dns";

export interface FamilyDnsArgs {
    readonly model: FamilyModel;
    readonly ipv4: pulumi.Input<string>;
    readonly ipv6: pulumi.Input<string>;
}

export const RECORD_COMMENT = "Managed by family-xmpp (Pulumi): changes here are overwritten";
/** What certbot's DNS plugin needs, granted on the family's zone only. */
const ACME_PERMISSIONS = ["Zone Read", "DNS Write"];

/**
 * The family's records in its Cloudflare zone, and the zone-scoped token certbot uses for its DNS
 * challenges. Only the names this stack owns are touched; the family's other records (website,
 * hand-made mail records) stay as they are. Never proxied: XMPP is not HTTP.
 */
export class FamilyDns extends pulumi.ComponentResource {
    public readonly records: pulumi.Output<DnsRecord<string>[]>;
    /** For certbot's DNS-01 challenges: may edit DNS records of this one zone, nothing else. Secret. */
    public readonly acmeToken: pulumi.Output<string>;

    constructor(name: string, args: FamilyDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("family-xmpp:index:FamilyDns", name, {}, opts);
        const { model } = args;
        const zone = cloudflare.getZoneOutput({ filter: { name: model.dnsZone } }, { parent: this });
        const records = renderDnsRecords<pulumi.Input<string>>(model, { ipv4: args.ipv4, ipv6: args.ipv6 });

        for (const record of records) {
            new cloudflare.DnsRecord(
                `${name}-${record.type.toLowerCase()}-${record.name}-${recordKey(record)}`,
                {
                    zoneId: zone.id,
                    name: record.name,
                    type: record.type,
                    ttl: record.ttl,
                    proxied: false,
                    comment: RECORD_COMMENT,
                    ...recordContent(record),
                },
                { parent: this },
            );
        }

        // The server holds this token, not the family's own: if the server is ever compromised,
        // the damage stops at this zone's records.
        // Zone Read lets certbot's plugin find the zone's id by name; DNS Write, its challenge records.
        const zoneGroups = cloudflare.getApiTokenPermissionGroupsListOutput(
            { scope: "com.cloudflare.api.account.zone" },
            { parent: this },
        );
        const permissionGroups = zoneGroups.results.apply((groups) =>
            ACME_PERMISSIONS.map((wanted) => {
                const group = groups.find((candidate) => candidate.name === wanted);
                if (!group)
                    throw new Error(
                        `Cloudflare has no permission group named "${wanted}"; the ACME token cannot be made`,
                    );
                return { id: group.id };
            }),
        );
        const token = new cloudflare.ApiToken(
            `${name}-acme-token`,
            {
                name: `family-xmpp ${model.domain}: certbot DNS-01`,
                policies: [
                    {
                        effect: "allow",
                        permissionGroups,
                        resources: zone.id.apply((zoneId) =>
                            JSON.stringify({ [`com.cloudflare.api.account.zone.${zoneId}`]: "*" }),
                        ),
                    },
                ],
            },
            { parent: this },
        );

        this.records = pulumi.output(records).apply((resolved) => resolved as DnsRecord<string>[]);
        this.acmeToken = pulumi.secret(token.value);
        this.registerOutputs({ records: this.records, acmeToken: this.acmeToken });
    }
}

/** How Cloudflare's API takes each record type's data. */
function recordContent(record: DnsRecord<pulumi.Input<string>>): Partial<cloudflare.DnsRecordArgs> {
    switch (record.type) {
        case "A":
        case "AAAA":
            return { content: record.address };
        case "SRV":
            return {
                data: {
                    priority: record.priority,
                    weight: record.weight,
                    port: record.port,
                    target: record.target,
                },
            };
        case "CAA":
            return { data: { flags: record.flags, tag: record.tag, value: record.value } };
        case "MX":
            return { content: record.target, priority: record.priority };
        case "TXT":
            return { content: txtCharacterStrings(record.text) };
        case "CNAME":
            return { content: record.target };
    }
}

/** What tells apart several records of one name and type (the MX hosts, the CAA values, ...). */
function recordKey(record: DnsRecord<unknown>): string {
    switch (record.type) {
        case "A":
        case "AAAA":
            return "address";
        case "SRV":
            return String(record.port);
        case "CAA":
            return `${record.tag}-${record.value}`;
        case "MX":
        case "CNAME":
            return record.target;
        case "TXT":
            return record.text.split(/[=\s;]/)[0];
    }
}
