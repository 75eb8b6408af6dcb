import { BackupSettings } from "./backup";
import { Language } from "./known-values";

/** The validated model of one family's messenger: everything the render layer needs, nothing Pulumi. */
export interface FamilyModel {
    /** The JID domain, e.g. `johansson.me`: every member is `<username>@<domain>`. */
    readonly domain: string;
    /** The server's own host name (SRV target, reverse DNS), e.g. `xmpp.johansson.me`. */
    readonly hostname: string;
    /** The Cloudflare zone that holds the family's records (the domain itself or a parent of it). */
    readonly dnsZone: string;
    readonly members: readonly Member[];
    /**
     * Former members. Whoever leaves `members` keeps a disabled account (no login, history kept);
     * listed here, the username stays reserved, and `erase` deletes the account and its history.
     */
    readonly removedMembers: readonly RemovedMember[];
    /** Shared-roster groups: every member of a group sees every other member of it. */
    readonly groups: readonly Group[];
    readonly hetzner: HetznerSettings;
    /**
     * Public keys of the humans allowed to log in as root; the stack's own deploy key is added
     * separately.
     */
    readonly sshPublicKeys: readonly string[];
    /** Source networks allowed to reach SSH (IPv4 and IPv6 CIDRs). */
    readonly sshAllowedCidrs: readonly string[];
    /** Whether other XMPP servers may reach the family (and the family them). */
    readonly federation: boolean;
    /**
     * With federation off, the only other servers this one connects to: the push services of the
     * family's apps (XEP-0357 app servers), which wake up sleeping phones.
     */
    readonly pushGateways: readonly string[];
    /** How long the server keeps message history: a Prosody period ("1y", "6m", "4w", "30d") or "forever". */
    readonly archiveRetention: string;
    readonly uploads: UploadSettings;
    /** Voice and video calls through the family's own STUN/TURN server; absent when turned off. */
    readonly calls?: CallSettings;
    readonly certificates: CertificateSettings;
    readonly welcome: WelcomeSettings;
    /** Nightly backups off the server; absent when the family wrote `backup: false`. */
    readonly backup?: BackupSettings;
    /** The family's hosted mailboxes on the same domain, if any. */
    readonly mail?: MailSettings;
}

/** Files shared in chats (XEP-0363); they expire with the message history. */
export interface UploadSettings {
    readonly sizeLimitMb: number;
    /** How much one member may upload per day. */
    readonly dailyQuotaMb: number;
    /**
     * How much all shared files together may take: half of the data volume, the other half staying
     * for accounts, message history and certificates (SHARED_FILES_SHARE_OF_VOLUME).
     */
    readonly totalQuotaMb: number;
}

/**
 * Calls connect directly when they can; behind NAT the apps relay them through coturn on the server.
 * Each relayed call leg takes one UDP port from this range.
 */
export interface CallSettings {
    readonly relayPorts: { readonly min: number; readonly max: number };
}

export interface CertificateSettings {
    /** Let's Encrypt's contact for expiry warnings; none registers without one. */
    readonly acmeEmail?: string;
    /** Let's Encrypt's staging service: untrusted certificates, generous limits, for trial runs. */
    readonly staging: boolean;
    readonly allowWildcard: boolean;
    /** CAs besides Let's Encrypt that may issue for the domain (e.g. the website's). */
    readonly extraCaaIssuers: readonly string[];
}

/**
 * How members join: a personal welcome link (XEP-0401) with which they choose their own password
 * for the account the config made for them.
 */
export interface WelcomeSettings {
    /** How many days a link stays valid; each link works once. */
    readonly linkDays: number;
    /** The language of the welcome sheets and of the page where a member chooses a password. */
    readonly language: Language;
}

export type DmarcPolicy = "none" | "quarantine" | "reject";

export interface MailSettings {
    readonly provider: "migadu" | "custom";
    /** Migadu's `hosted-email-verify` code. */
    readonly verification?: string;
    readonly mx: readonly { readonly host: string; readonly priority: number }[];
    readonly spfIncludes: readonly string[];
    /** DKIM selectors published as CNAMEs to the provider's keys. */
    readonly dkim: readonly { readonly selector: string; readonly target: string }[];
    readonly dmarcPolicy: DmarcPolicy;
    /** Migadu's autoconfig/autodiscover and RFC 6186 service records. */
    readonly clientDiscovery: boolean;
}

/** Group chat rooms live here (XEP-0045), e.g. `family@conference.johansson.me`. */
export function conferenceHost(model: Pick<FamilyModel, "domain">): string {
    return `conference.${model.domain}`;
}

/** Files shared in chats are uploaded to and served from here (XEP-0363). */
export function uploadHost(model: Pick<FamilyModel, "domain">): string {
    return `upload.${model.domain}`;
}

export interface Member {
    /** The JID localpart, already lowercase. */
    readonly username: string;
    /** The display name shown in everyone's contact list, in any script. */
    readonly name: string;
    readonly admin: boolean;
}

export interface RemovedMember {
    readonly username: string;
    /** Delete the account with its contacts and history; the username stays reserved (tombstone). */
    readonly erase: boolean;
}

export interface Group {
    readonly name: string;
    /** Usernames, each one of `FamilyModel.members`. */
    readonly members: readonly string[];
}

export interface HetznerSettings {
    readonly location: string;
    readonly serverType: string;
    /**
     * Fixed: Debian 13, whose Prosody 13.0.1 is the one the tests run (from bookworm-backports on the
     * Debian 12 machines that run them). Changing it replaces the server (see README, "Upgrading").
     */
    readonly image: "debian-13";
    readonly backups: boolean;
    readonly volumeSizeGb: number;
}

export function jidOf(model: Pick<FamilyModel, "domain">, username: string): string {
    return `${username}@${model.domain}`;
}
