/** The validated model of one family's messenger: everything the render layer needs, nothing Pulumi. */
export interface FamilyModel {
    /** The JID domain, e.g. `johansson.me`: every member is `<username>@<domain>`. */
    readonly domain: string;
    /** The server's own host name (SRV target, reverse DNS), e.g. `xmpp.johansson.me`. */
    readonly hostname: string;
    /** The Cloudflare zone that holds the family's records (the domain itself or a parent of it). */
    readonly dnsZone: string;
    readonly members: readonly Member[];
    /** Shared-roster groups: every member of a group sees every other member of it. */
    readonly groups: readonly Group[];
    readonly hetzner: HetznerSettings;
    /** Public keys of the humans allowed to log in as root; the stack's own deploy key is added separately. */
    readonly sshPublicKeys: readonly string[];
    /** Source networks allowed to reach SSH (IPv4 and IPv6 CIDRs). */
    readonly sshAllowedCidrs: readonly string[];
}

export interface Member {
    /** The JID localpart, already lowercase. */
    readonly username: string;
    /** The display name shown in everyone's contact list, in any script. */
    readonly name: string;
    readonly admin: boolean;
}

export interface Group {
    readonly name: string;
    /** Usernames, each one of `FamilyModel.members`. */
    readonly members: readonly string[];
}

export interface HetznerSettings {
    readonly location: string;
    readonly serverType: string;
    /** Fixed: production runs the Prosody version the tests run (Debian 12's). */
    readonly image: "debian-12";
    readonly backups: boolean;
    readonly volumeSizeGb: number;
}

export function jidOf(model: Pick<FamilyModel, "domain">, username: string): string {
    return `${username}@${model.domain}`;
}
