import {
    conferenceHost,
    FamilyModel,
    Group,
    MailSettings,
    Member,
    RemovedMember,
    uploadHost,
} from "./family";
import { HETZNER_USER_DATA_LIMIT, userDataBytes } from "../render/cloud-init";
import { readBackup } from "./backup";
import {
    BACKUP_CREDENTIAL_KEYS,
    CONFIG_NAMESPACE,
    DEFAULTS,
    HETZNER_LOCATIONS,
    HETZNER_SERVER_TYPES,
    Language,
    LANGUAGES,
    LIST_LIMITS,
    MAX_WELCOME_LINK_DAYS,
    RETENTION_LIMITS,
    SERVER_PORTS,
    SHARED_FILES_SHARE_OF_VOLUME,
    VOLUME_SIZE_LIMITS,
} from "./known-values";
import {
    cidrProblem,
    closest,
    displayNameProblem,
    dnsNameProblem,
    groupNameProblem,
    isRecord,
    isWithinZone,
    sshPublicKeyProblem,
} from "./rules";
import { describe, quoted, shown } from "./text";
import { accountKey, usernameProblem } from "./usernames";

/** One thing wrong with the config, naming the full key (e.g. `family-xmpp:members[2].username`). */
export interface ConfigProblem {
    readonly key: string;
    readonly message: string;
}

export type FamilyConfigResult =
    | { readonly ok: true; readonly model: FamilyModel }
    | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** The family-xmpp keys a stack may set, without the namespace. */
export const CONFIG_KEYS = [
    "domain",
    "hostname",
    "dnsZone",
    "members",
    "removedMembers",
    "groups",
    "location",
    "serverType",
    "backups",
    "volumeSizeGb",
    "sshPublicKeys",
    "sshAllowedCidrs",
    "federation",
    "pushGateways",
    "archiveRetention",
    "uploadSizeLimitMb",
    "uploadDailyQuotaMb",
    "calls",
    "callRelayPorts",
    "acmeEmail",
    "letsEncryptStaging",
    "allowWildcardCertificates",
    "extraCaaIssuers",
    "welcomeLinkDays",
    "language",
    "mail",
    "backup",
    ...BACKUP_CREDENTIAL_KEYS,
] as const;

const MEMBER_FIELDS = ["username", "name", "admin"];
const REMOVED_MEMBER_FIELDS = ["username", "erase"];
const MAIL_FIELDS = [
    "provider",
    "verification",
    "mx",
    "spfIncludes",
    "dkim",
    "dmarcPolicy",
    "clientDiscovery",
];
const DMARC_POLICIES = ["none", "quarantine", "reject"] as const;
const GROUP_FIELDS = ["name", "members"];

/**
 * Turns the plain values of a stack's `family-xmpp:*` config (keys without the namespace) into the
 * family model, or lists every problem at once.
 */
export function parseFamilyConfig(raw: Readonly<Record<string, unknown>>): FamilyConfigResult {
    const problems: ConfigProblem[] = [];
    const report = (key: string, message: string) =>
        problems.push({ key: `${CONFIG_NAMESPACE}:${key}`, message });

    for (const key of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
            const suggestion = closest(key, CONFIG_KEYS);
            report(
                shown(key),
                "is not a setting of this stack" +
                    `${suggestion ? `; did you mean "${CONFIG_NAMESPACE}:${suggestion}"?` : ""}`,
            );
        }
    }

    const domain = readDomain(raw.domain, report);
    const hostname = readOptionalDnsName(
        "hostname",
        raw.hostname,
        domain ? `xmpp.${domain}` : undefined,
        report,
    );
    const dnsZone = readOptionalDnsName("dnsZone", raw.dnsZone, domain, report);
    if (domain && dnsZone && !isWithinZone(domain, dnsZone)) {
        report(
            "dnsZone",
            `"${dnsZone}" does not contain the domain "${domain}"; ` +
                "give the Cloudflare zone the domain belongs to",
        );
    }
    if (
        hostname &&
        domain &&
        [domain, conferenceHost({ domain }), uploadHost({ domain }), `autoconfig.${domain}`].includes(
            hostname,
        )
    ) {
        report(
            "hostname",
            `"${hostname}" is a name this stack already uses for something else ` +
                "(the domain itself is left to the family's website, " +
                "conference./upload./autoconfig. have their own records); " +
                `use e.g. "xmpp.${domain}"`,
        );
    }
    if (hostname && dnsZone && !isWithinZone(hostname, dnsZone)) {
        report(
            "hostname",
            `"${hostname}" is outside the DNS zone "${dnsZone}", so this stack cannot publish it; ` +
                `use e.g. "xmpp.${domain ?? dnsZone}"`,
        );
    }
    const members = readMembers(raw.members, report);
    const removedMembers = readRemovedMembers(raw.removedMembers, members, report);
    const groups = readGroups(raw.groups, members, report);
    const location = readChoice("location", raw.location, HETZNER_LOCATIONS, DEFAULTS.location, report);
    const serverType = readChoice(
        "serverType",
        raw.serverType,
        HETZNER_SERVER_TYPES,
        DEFAULTS.serverType,
        report,
    );
    const backups = readBoolean("backups", raw.backups, DEFAULTS.backups, report);
    const volumeSizeGb = readVolumeSize(raw.volumeSizeGb, report);
    const sshPublicKeys = readStringList("sshPublicKeys", raw.sshPublicKeys, [], sshPublicKeyProblem, report);
    const sshAllowedCidrs = readStringList(
        "sshAllowedCidrs",
        raw.sshAllowedCidrs,
        DEFAULTS.sshAllowedCidrs,
        cidrProblem,
        report,
    );
    if (Array.isArray(raw.sshAllowedCidrs) && raw.sshAllowedCidrs.length === 0) {
        report(
            "sshAllowedCidrs",
            "is empty, so not even this stack could reach the server to provision it; " +
                "remove the key to allow SSH from anywhere (key-only login)",
        );
    }

    const federation = readBoolean("federation", raw.federation, DEFAULTS.federation, report);
    const pushGateways = readStringList(
        "pushGateways",
        raw.pushGateways,
        DEFAULTS.pushGateways,
        (name) => dnsNameProblem(name),
        report,
    );
    const archiveRetention = readRetention(raw.archiveRetention, report);
    const sizeLimitMb = readMegabytes(
        "uploadSizeLimitMb",
        raw.uploadSizeLimitMb,
        DEFAULTS.uploadSizeLimitMb,
        report,
    );
    const dailyQuotaMb = readMegabytes(
        "uploadDailyQuotaMb",
        raw.uploadDailyQuotaMb,
        DEFAULTS.uploadDailyQuotaMb,
        report,
    );
    if (dailyQuotaMb < sizeLimitMb)
        report(
            "uploadDailyQuotaMb",
            `is smaller than one file may be (${sizeLimitMb} MB), so such a file could never be sent`,
        );
    const totalQuotaMb = Math.floor(volumeSizeGb * 1000 * SHARED_FILES_SHARE_OF_VOLUME);
    if (dailyQuotaMb > totalQuotaMb) {
        const neededGb = Math.ceil(dailyQuotaMb / 1000 / SHARED_FILES_SHARE_OF_VOLUME);
        report(
            "uploadDailyQuotaMb",
            `is ${dailyQuotaMb} MB a day for each member, more than the ${totalQuotaMb} MB all shared ` +
                `files may take together (half of the ${volumeSizeGb} GB volume, family-xmpp:volumeSizeGb; ` +
                "the other half stays for accounts, message history and certificates), so one member " +
                `could fill it in a day; lower it or make volumeSizeGb at least ${neededGb}`,
        );
    }
    const calls = readBoolean("calls", raw.calls, DEFAULTS.calls, report);
    const relayPorts = readPortRange(raw.callRelayPorts, report);
    if (!calls && raw.callRelayPorts !== undefined)
        report("callRelayPorts", "is set, but calls are turned off (`calls: false`); remove one of the two");
    const acmeEmail = readEmail(raw.acmeEmail, report);
    const staging = readBoolean(
        "letsEncryptStaging",
        raw.letsEncryptStaging,
        DEFAULTS.letsEncryptStaging,
        report,
    );
    const allowWildcard = readBoolean(
        "allowWildcardCertificates",
        raw.allowWildcardCertificates,
        DEFAULTS.allowWildcardCertificates,
        report,
    );
    const extraCaaIssuers = readStringList(
        "extraCaaIssuers",
        raw.extraCaaIssuers,
        [],
        caaIssuerProblem,
        report,
    );
    const linkDays = readWelcomeLinkDays(raw.welcomeLinkDays, report);
    const language = readLanguage(raw.language, report);
    const mail = readMail(raw.mail, domain ?? "", report);
    const backup = readBackup(raw.backup, raw, report);

    if (problems.length > 0 || !domain || !hostname || !dnsZone) {
        return { ok: false, problems };
    }
    const model: FamilyModel = {
        domain,
        hostname,
        dnsZone,
        members,
        removedMembers,
        groups,
        hetzner: { location, serverType, image: "debian-13", backups, volumeSizeGb },
        sshPublicKeys,
        sshAllowedCidrs,
        federation,
        pushGateways,
        archiveRetention,
        uploads: { sizeLimitMb, dailyQuotaMb, totalQuotaMb },
        ...(calls ? { calls: { relayPorts } } : {}),
        certificates: { ...(acmeEmail ? { acmeEmail } : {}), staging, allowWildcard, extraCaaIssuers },
        welcome: { linkDays, language },
        ...(mail ? { mail } : {}),
        ...(backup ? { backup } : {}),
    };
    const userData = userDataBytes(model);
    if (userData > HETZNER_USER_DATA_LIMIT) {
        report(
            "members",
            `with ${members.length} members, ${plural(groups.length, "group")} and ` +
                `${plural(sshPublicKeys.length, "SSH key")}, ` +
                `the server's first-boot data (cloud-init user data) would be ${userData} bytes; Hetzner ` +
                `accepts at most ${HETZNER_USER_DATA_LIMIT}: ` +
                "fewer or shorter members, groups or keys make it fit",
        );
        return { ok: false, problems };
    }
    return { ok: true, model };
}

type Report = (key: string, message: string) => void;

function readDomain(value: unknown, report: Report): string | undefined {
    if (value === undefined || value === "") {
        report("domain", "is required: the family's domain, e.g. `pulumi config set domain johansson.me`");
        return undefined;
    }
    if (typeof value !== "string") {
        report("domain", `must be a text like "johansson.me", not ${describe(value)}`);
        return undefined;
    }
    const problem = dnsNameProblem(value);
    if (problem) {
        report("domain", problem);
        return undefined;
    }
    return value;
}

function readOptionalDnsName(
    key: string,
    value: unknown,
    fallback: string | undefined,
    report: Report,
): string | undefined {
    if (value === undefined) return fallback;
    if (typeof value !== "string") {
        report(key, `must be a host name like "xmpp.johansson.me", not ${describe(value)}`);
        return undefined;
    }
    const problem = dnsNameProblem(value);
    if (problem) {
        report(key, problem);
        return undefined;
    }
    return value;
}

function readMembers(value: unknown, report: Report): Member[] {
    if (value === undefined) {
        report("members", "is required: a list of `{username, name}` entries, one per family account");
        return [];
    }
    if (!Array.isArray(value)) {
        report("members", `must be a list of \`{username, name, admin?}\` entries, not ${describe(value)}`);
        return [];
    }
    if (value.length === 0) {
        report("members", "is empty; a family server needs at least one member");
        return [];
    }
    if (tooLong("members", value, report)) return [];
    const members: Member[] = [];
    const seen = new Map<string, number>();
    value.forEach((entry: unknown, index) => {
        const at = `members[${index}]`;
        if (!isRecord(entry)) {
            report(at, `must be an entry like \`{username: anna, name: Anna}\`, not ${describe(entry)}`);
            return;
        }
        reportUnknownFields(at, entry, MEMBER_FIELDS, report);
        let ok = true;
        const { username, name, admin } = entry;
        if (typeof username !== "string") {
            report(
                `${at}.username`,
                username === undefined
                    ? "is required: the part before the @ in the address"
                    : `must be a text, not ${describe(username)}`,
            );
            ok = false;
        } else {
            const problem = usernameProblem(username);
            const folded = accountKey(username);
            if (problem) {
                report(`${at}.username`, problem);
                ok = false;
            }
            const earlier = seen.get(folded);
            if (earlier !== undefined) {
                const other = (value[earlier] as { username: string }).username;
                report(
                    `${at}.username`,
                    other === username
                        ? `${quoted(username)} is already used by members[${earlier}]; ` +
                              "each account needs its own username"
                        : `${quoted(username)} is the same account as members[${earlier}] ` +
                              `(${quoted(other)}): ` +
                              `the server stores both as ${quoted(folded)}; choose another username`,
                );
                ok = false;
            } else {
                seen.set(folded, index);
            }
        }
        if (typeof name !== "string") {
            report(
                `${at}.name`,
                name === undefined
                    ? 'is required: the name the family sees, e.g. "Mormor"'
                    : `must be a text, not ${describe(name)}`,
            );
            ok = false;
        } else {
            const problem = displayNameProblem(name);
            if (problem) {
                report(`${at}.name`, problem);
                ok = false;
            }
        }
        if (admin !== undefined && typeof admin !== "boolean") {
            report(`${at}.admin`, `must be true or false, not ${describe(admin)}`);
            ok = false;
        }
        if (ok) members.push({ username: username as string, name: name as string, admin: admin === true });
    });
    return members;
}

/**
 * Former members: a member taken out of `members` keeps a disabled account with its history; an
 * entry here records the removal, keeps the username from ever being given to someone else, and
 * with `erase: true` deletes the account and everything stored for it.
 */
function readRemovedMembers(value: unknown, members: readonly Member[], report: Report): RemovedMember[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        report("removedMembers", `must be a list of \`{username, erase?}\` entries, not ${describe(value)}`);
        return [];
    }
    if (tooLong("removedMembers", value, report)) return [];
    const current = new Map(members.map((member) => [accountKey(member.username), member.username]));
    const seen = new Map<string, number>();
    const removed: RemovedMember[] = [];
    value.forEach((entry: unknown, index) => {
        const at = `removedMembers[${index}]`;
        if (!isRecord(entry)) {
            report(at, `must be an entry like \`{username: bo, erase: false}\`, not ${describe(entry)}`);
            return;
        }
        reportUnknownFields(at, entry, REMOVED_MEMBER_FIELDS, report);
        const { username, erase } = entry;
        let ok = true;
        if (typeof username !== "string") {
            report(
                `${at}.username`,
                username === undefined
                    ? "is required: the username of the former member"
                    : `must be a text, not ${describe(username)}`,
            );
            ok = false;
        } else {
            const problem = usernameProblem(username);
            const key = accountKey(username);
            const member = current.get(key);
            if (problem) {
                report(`${at}.username`, problem);
                ok = false;
            }
            if (member !== undefined) {
                report(
                    `${at}.username`,
                    `${quoted(username)} is also in family-xmpp:members (${quoted(member)}). ` +
                        "A username belongs to " +
                        "one person for good: give a new member another username, or, if this is the " +
                        "same person coming back, delete this entry (a kept account comes back with its " +
                        "history; an erased one cannot come back)",
                );
                ok = false;
            } else if (seen.has(key)) {
                const earlier = seen.get(key) ?? 0;
                const other = (value[earlier] as { username: string }).username;
                report(
                    `${at}.username`,
                    other === username
                        ? `${quoted(username)} is already listed as removedMembers[${earlier}]`
                        : `${quoted(username)} is the same account as removedMembers[${earlier}] ` +
                              `(${quoted(other)}): the server stores both as ${quoted(key)}`,
                );
                ok = false;
            } else {
                seen.set(key, index);
            }
        }
        if (erase !== undefined && typeof erase !== "boolean") {
            report(
                `${at}.erase`,
                `must be true (delete the account and its history) or false (keep them, the login ` +
                    `disabled), not ${describe(erase)}`,
            );
            ok = false;
        }
        if (ok) removed.push({ username: username as string, erase: erase === true });
    });
    return removed;
}

function readGroups(value: unknown, members: readonly Member[], report: Report): Group[] {
    if (value === undefined) {
        return [{ name: DEFAULTS.groupName, members: members.map((member) => member.username) }];
    }
    if (!Array.isArray(value)) {
        report(
            "groups",
            `must be a list of \`{name, members: [username, ...]}\` entries, not ${describe(value)}`,
        );
        return [];
    }
    if (value.length === 0) {
        report(
            "groups",
            "is empty, so nobody would see anybody; " +
                'remove the key to get one "Family" group with every member',
        );
        return [];
    }
    if (tooLong("groups", value, report)) return [];
    const usernames = members.map((member) => member.username);
    const groups: Group[] = [];
    const seenNames = new Map<string, number>();
    value.forEach((entry: unknown, index) => {
        const at = `groups[${index}]`;
        if (!isRecord(entry)) {
            report(
                at,
                `must be an entry like \`{name: Family, members: [anna, pappa]}\`, not ${describe(entry)}`,
            );
            return;
        }
        reportUnknownFields(at, entry, GROUP_FIELDS, report);
        let ok = true;
        const { name, members: groupMembers } = entry;
        if (typeof name !== "string") {
            report(
                `${at}.name`,
                name === undefined
                    ? "is required: the group's heading in the contact list"
                    : `must be a text, not ${describe(name)}`,
            );
            ok = false;
        } else {
            const problem = groupNameProblem(name);
            const earlier = seenNames.get(name.toLowerCase());
            if (problem) {
                report(`${at}.name`, problem);
                ok = false;
            } else if (earlier !== undefined) {
                report(
                    `${at}.name`,
                    `${quoted(name)} is already the name of groups[${earlier}]; merge the two or rename one`,
                );
                ok = false;
            } else {
                seenNames.set(name.toLowerCase(), index);
            }
        }
        if (!Array.isArray(groupMembers)) {
            report(
                `${at}.members`,
                groupMembers === undefined
                    ? "is required: the usernames in this group"
                    : `must be a list of usernames, not ${describe(groupMembers)}`,
            );
            return;
        }
        if (groupMembers.length === 0) {
            report(`${at}.members`, "is empty; list the usernames of the people in this group");
            ok = false;
        }
        const listed = new Set<string>();
        groupMembers.forEach((username: unknown, memberIndex) => {
            const memberKey = `${at}.members[${memberIndex}]`;
            if (typeof username !== "string") {
                report(memberKey, `must be a username, not ${describe(username)}`);
                ok = false;
            } else if (!usernames.includes(username)) {
                const suggestion = closest(username, usernames);
                report(
                    memberKey,
                    `${quoted(username)} is not a username in family-xmpp:members` +
                        `${suggestion ? `; did you mean "${suggestion}"?` : ""}`,
                );
                ok = false;
            } else if (listed.has(username)) {
                report(memberKey, `${quoted(username)} is listed twice in this group`);
                ok = false;
            } else {
                listed.add(username);
            }
        });
        if (ok) groups.push({ name: name as string, members: groupMembers as string[] });
    });
    return groups;
}

function readRetention(value: unknown, report: Report): string {
    if (value === undefined) return DEFAULTS.archiveRetention;
    if (value === "forever") return value;
    const match = typeof value === "string" ? /^([1-9][0-9]*)([dwmy])$/.exec(value) : null;
    if (match) {
        const most = RETENTION_LIMITS[match[2] as keyof typeof RETENTION_LIMITS];
        if (Number(match[1]) <= most) return match[0];
        report(
            "archiveRetention",
            `${describe(value)} is more than 100 years (at most ${most}${match[2]}); ` +
                'write "forever" to keep the history for good',
        );
        return DEFAULTS.archiveRetention;
    }
    report(
        "archiveRetention",
        'must be a number of days, weeks, months or years ("30d", "4w", "6m", "1y") ' +
            `or "forever", not ${describe(value)}`,
    );
    return DEFAULTS.archiveRetention;
}

function readMegabytes(key: string, value: unknown, fallback: number, report: Report): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 100_000) {
        report(key, `must be a whole number of megabytes from 1 to 100000, not ${describe(value)}`);
        return fallback;
    }
    return value;
}

function readWelcomeLinkDays(value: unknown, report: Report): number {
    if (value === undefined) return DEFAULTS.welcomeLinkDays;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_WELCOME_LINK_DAYS) {
        report(
            "welcomeLinkDays",
            `must be a whole number of days from 1 to ${MAX_WELCOME_LINK_DAYS}, not ${describe(value)}`,
        );
        return DEFAULTS.welcomeLinkDays;
    }
    return value;
}

function readLanguage(value: unknown, report: Report): Language {
    if (value === undefined) return DEFAULTS.language;
    if (typeof value === "string" && Object.hasOwn(LANGUAGES, value)) return value as Language;
    const choices = Object.entries(LANGUAGES).map(([code, name]) => `"${code}" (${name})`);
    report(
        "language",
        `${describe(value)} is not a language the welcome sheets come in; ` +
            `choose ${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]}`,
    );
    return DEFAULTS.language;
}

const MIN_RELAY_PORTS = 16;

function readPortRange(value: unknown, report: Report): { min: number; max: number } {
    const fallback = DEFAULTS.callRelayPorts;
    if (value === undefined) return { ...fallback };
    const match = typeof value === "string" ? /^(\d{1,5})-(\d{1,5})$/.exec(value.trim()) : null;
    const example = `"${fallback.min}-${fallback.max}"`;
    if (!match) {
        report("callRelayPorts", `must be a UDP port range like ${example}, not ${describe(value)}`);
        return { ...fallback };
    }
    const [min, max] = [Number(match[1]), Number(match[2])];
    if (min < 1024 || max > 65535 || min > max) {
        report(
            "callRelayPorts",
            "must run from a lower to a higher port between 1024 and 65535 " +
                `(e.g. ${example}), not ${describe(value)}`,
        );
    } else if (max - min + 1 < MIN_RELAY_PORTS) {
        report(
            "callRelayPorts",
            `holds ${max - min + 1} ports; give at least ${MIN_RELAY_PORTS} ` +
                `(each relayed call leg takes one), e.g. ${example}`,
        );
    } else {
        // The relay range must leave the server's own ports alone.
        const clash = Object.values(SERVER_PORTS)
            .sort((a, b) => a - b)
            .find((port) => port >= min && port <= max);
        if (clash !== undefined)
            report(
                "callRelayPorts",
                `includes port ${clash}, which the server itself listens on; use e.g. ${example}`,
            );
    }
    return { min, max };
}

/**
 * An address certbot passes to Let's Encrypt: letters, digits and . _ % + - before the @ (nothing a
 * shell or a glob would read), a domain name after it.
 */
function readEmail(value: unknown, report: Report): string | undefined {
    if (value === undefined) return undefined;
    const purpose = "an e-mail address where Let's Encrypt can warn about expiring certificates";
    if (typeof value !== "string") {
        report("acmeEmail", `must be ${purpose}, not ${describe(value)}`);
        return undefined;
    }
    const at = value.lastIndexOf("@");
    const [local, domain] = [value.slice(0, at), value.slice(at + 1)];
    const domainProblem = at > 0 ? dnsNameProblem(domain) : undefined;
    if (at <= 0 || domain.length === 0) {
        report("acmeEmail", `must be ${purpose} (name@domain), not ${describe(value)}`);
    } else if (!/^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*$/.test(local) || local.length > 64) {
        report(
            "acmeEmail",
            `${describe(value)}: the part before the @ may only hold letters a-z, digits and . _ % + - ` +
                "(no spaces, quotes or characters such as * ? $ that a shell reads), at most 64 of them",
        );
    } else if (domainProblem) {
        report("acmeEmail", `has a domain that is not a domain name: ${domainProblem}`);
    } else {
        return value;
    }
    return undefined;
}

function caaIssuerProblem(issuer: string): string | undefined {
    return dnsNameProblem(issuer)
        ? `${quoted(issuer)} is not a CA's domain as CAA records name it (e.g. "pki.goog")`
        : undefined;
}

/** The mail block: Migadu by default, or a custom provider described in full. */
function readMail(value: unknown, domain: string, report: Report): MailSettings | undefined {
    if (value === undefined) return undefined;
    if (!isRecord(value)) {
        report(
            "mail",
            `must be an entry like \`{provider: migadu, verification: <code>}\`, not ${describe(value)}`,
        );
        return undefined;
    }
    reportUnknownFields("mail", value, MAIL_FIELDS, report);
    const provider = readChoice(
        "mail.provider",
        value.provider,
        ["migadu", "custom"] as const,
        "migadu",
        report,
    );
    const dmarcPolicy = readChoice(
        "mail.dmarcPolicy",
        value.dmarcPolicy,
        DMARC_POLICIES,
        "quarantine",
        report,
    );
    const clientDiscovery = readBoolean(
        "mail.clientDiscovery",
        value.clientDiscovery,
        provider === "migadu",
        report,
    );
    if (provider === "migadu") {
        for (const field of ["mx", "spfIncludes", "dkim"]) {
            if (value[field] !== undefined)
                report(`mail.${field}`, "is set by the Migadu preset; use provider: custom to give your own");
        }
        if (typeof value.verification !== "string" || !/^[A-Za-z0-9]+$/.test(value.verification)) {
            report(
                "mail.verification",
                value.verification === undefined
                    ? "is required for Migadu: the code from Migadu's DNS setup page " +
                          "(the part after hosted-email-verify=)"
                    : `must be the letters and digits of Migadu's code, not ${describe(value.verification)}`,
            );
            return undefined;
        }
        return {
            provider,
            verification: value.verification,
            mx: [
                { host: "aspmx1.migadu.com", priority: 10 },
                { host: "aspmx2.migadu.com", priority: 20 },
            ],
            spfIncludes: ["spf.migadu.com"],
            dkim: [1, 2, 3].map((n) => ({
                selector: `key${n}`,
                target: `key${n}.${domain}._domainkey.migadu.com`,
            })),
            dmarcPolicy,
            clientDiscovery,
        };
    }
    const mx = readMxList(value.mx, report);
    const spfIncludes = readStringList(
        "mail.spfIncludes",
        value.spfIncludes,
        [],
        (host) => dnsNameProblem(host, true),
        report,
    );
    const dkim = readDkimList(value.dkim, report);
    if (value.verification !== undefined)
        report(
            "mail.verification",
            "is for the Migadu preset; a custom provider's verification record goes in Cloudflare by hand",
        );
    return { provider, mx, spfIncludes, dkim, dmarcPolicy, clientDiscovery };
}

function readMxList(value: unknown, report: Report): { host: string; priority: number }[] {
    if (!Array.isArray(value) || value.length === 0) {
        report("mail.mx", "is required for a custom provider: a list of `{host, priority}` mail servers");
        return [];
    }
    if (tooLong("mail.mx", value, report)) return [];
    const hosts: { host: string; priority: number }[] = [];
    value.forEach((entry: unknown, index) => {
        const at = `mail.mx[${index}]`;
        if (!isRecord(entry) || typeof entry.host !== "string" || typeof entry.priority !== "number") {
            report(at, "must be an entry like `{host: mx1.example.net, priority: 10}`");
            return;
        }
        const problem = dnsNameProblem(entry.host);
        if (problem) report(`${at}.host`, problem);
        else if (!Number.isInteger(entry.priority) || entry.priority < 0 || entry.priority > 65535)
            report(`${at}.priority`, "must be a whole number from 0 to 65535");
        else hosts.push({ host: entry.host, priority: entry.priority });
    });
    return hosts;
}

function readDkimList(value: unknown, report: Report): { selector: string; target: string }[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        report("mail.dkim", "must be a list of `{selector, target}` entries");
        return [];
    }
    if (tooLong("mail.dkim", value, report)) return [];
    const keys: { selector: string; target: string }[] = [];
    value.forEach((entry: unknown, index) => {
        const at = `mail.dkim[${index}]`;
        if (!isRecord(entry) || typeof entry.selector !== "string" || typeof entry.target !== "string") {
            report(
                at,
                "must be an entry like " +
                    "`{selector: key1, target: key1.example.net._domainkey.provider.example}`",
            );
            return;
        }
        if (!/^[a-z0-9][a-z0-9-]*$/.test(entry.selector))
            report(
                `${at}.selector`,
                `${quoted(entry.selector)} must be lowercase letters, digits and hyphens`,
            );
        else if (dnsNameProblem(entry.target, true))
            report(`${at}.target`, dnsNameProblem(entry.target, true) ?? "");
        else keys.push({ selector: entry.selector, target: entry.target });
    });
    return keys;
}

function readChoice<T extends string>(
    key: string,
    value: unknown,
    choices: readonly T[],
    fallback: T,
    report: Report,
): T {
    if (value === undefined) return fallback;
    if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
    const suggestion = typeof value === "string" ? closest(value, choices) : undefined;
    report(
        key,
        `${describe(value)} is not known${suggestion ? `; did you mean "${suggestion}"?` : "."} ` +
            `Choose one of: ${choices.join(", ")}`,
    );
    return fallback;
}

function readBoolean(key: string, value: unknown, fallback: boolean, report: Report): boolean {
    if (value === undefined) return fallback;
    if (typeof value === "boolean") return value;
    report(key, `must be true or false, not ${describe(value)}`);
    return fallback;
}

function readVolumeSize(value: unknown, report: Report): number {
    if (value === undefined) return DEFAULTS.volumeSizeGb;
    const { min, max } = VOLUME_SIZE_LIMITS;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        report(
            "volumeSizeGb",
            `must be a whole number of GB from ${min} to ${max} (Hetzner's volume limits), ` +
                `not ${describe(value)}`,
        );
        return DEFAULTS.volumeSizeGb;
    }
    return value;
}

/** Whether a list holds more entries than LIST_LIMITS allows (reported once, entries left unread). */
function tooLong(key: keyof typeof LIST_LIMITS, value: readonly unknown[], report: Report): boolean {
    const { most, why } = LIST_LIMITS[key];
    if (value.length <= most) return false;
    report(key, `has ${value.length} entries; at most ${most} are allowed (${why})`);
    return true;
}

function readStringList(
    key: keyof typeof LIST_LIMITS,
    value: unknown,
    fallback: readonly string[],
    problemOf: (item: string) => string | undefined,
    report: Report,
): string[] {
    if (value === undefined) return [...fallback];
    if (!Array.isArray(value)) {
        report(key, `must be a list, not ${describe(value)}`);
        return [];
    }
    if (tooLong(key, value, report)) return [];
    const items: string[] = [];
    value.forEach((item: unknown, index) => {
        if (typeof item !== "string") {
            report(`${key}[${index}]`, `must be a text, not ${describe(item)}`);
            return;
        }
        const problem = problemOf(item);
        if (problem) report(`${key}[${index}]`, problem);
        else items.push(item.trim());
    });
    return items;
}

function reportUnknownFields(
    at: string,
    entry: Record<string, unknown>,
    known: readonly string[],
    report: Report,
): void {
    for (const field of Object.keys(entry)) {
        if (!known.includes(field)) {
            const suggestion = closest(field, known);
            report(
                `${at}.${shown(field)}`,
                `is not a field here${suggestion ? `; did you mean "${suggestion}"?` : ""} ` +
                    `(known: ${known.join(", ")})`,
            );
        }
    }
}

function plural(count: number, noun: string): string {
    return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** How problems reach a person: one line each, key first. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
    const lines = problems.map((problem) => `  - ${problem.key}: ${problem.message}`);
    return (
        `The family-xmpp config has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        `${lines.join("\n")}`
    );
}
