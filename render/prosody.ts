import { conferenceHost, FamilyModel, jidOf, uploadHost } from "../model/family";
import { BACKUP_MAX_AGE_HOURS, LIST_LIMITS } from "../model/known-values";
import { renderProsodyCallSettings } from "./calls";
import { ServerHost } from "./layout";
import { fillTemplate, luaString } from "./template";
import { welcomeBaseUrl } from "./welcome";

export function renderProsodyConfig(model: FamilyModel, host: ServerHost): string {
    const { paths, listeners } = host;
    const admins = model.members
        .filter((member) => member.admin)
        .map((member) => luaString(jidOf(model, member.username)));
    const adminAddresses = model.members
        .filter((member) => member.admin)
        .map((member) => luaString(`xmpp:${jidOf(model, member.username)}`));
    return fillTemplate("prosody.cfg.lua", {
        HTTPS_PORT: String(listeners.httpsPort),
        UPLOAD_HOST: uploadHost(model),
        UPLOAD_SIZE_LIMIT: String(model.uploads.sizeLimitMb * 1024 * 1024),
        UPLOAD_DAILY_QUOTA: String(model.uploads.dailyQuotaMb * 1024 * 1024),
        UPLOAD_TOTAL_QUOTA: String(model.uploads.totalQuotaMb * 1024 * 1024),
        UPLOAD_EXPIRES_AFTER: String(retentionSeconds(model.archiveRetention)),
        ARCHIVE_EXPIRES_AFTER: model.archiveRetention === "forever" ? "never" : model.archiveRetention,
        // As many as a family can have: every member's block list fits.
        BLOCKLIST_CACHE_SIZE: String(LIST_LIMITS.members.most),
        ADMIN_ADDRESSES: adminAddresses.join(", "),
        DOMAIN: model.domain,
        HOSTNAME: model.hostname,
        WELCOME_BASE_URL: welcomeBaseUrl(model, host),
        CONFERENCE_HOST: conferenceHost(model),
        ADMIN_JIDS: admins.join(", "),
        DATA_PATH: paths.dataPath,
        PIDFILE: paths.pidfile,
        CERTIFICATES_DIR: paths.certificatesDir,
        INTERFACES: listeners.interfaces.map(luaString).join(", "),
        C2S_PORT: String(listeners.c2sPort),
        C2S_DIRECT_TLS_PORT: String(listeners.c2sDirectTlsPort),
        FEDERATION: renderFederationSettings(model, host),
        FEDERATION_MODULES: model.federation
            ? "-- (federation is on: no module keeps other servers out)"
            : "-- Federation is off: other servers only for the apps' push services\n" +
              '    "family_federation";',
        RESOLVER: renderResolverSettings(host),
        GROUPS_FILE: paths.groupsFile,
        FAMILY_FILE: paths.familyFile,
        MODULES_DIR: paths.prosodyModulesDir,
        LOG_FILE: paths.logFile,
        SECRETS_DIR: paths.prosodySecretsDir,
        CALLS_MODULES: model.calls
            ? "-- Voice and video calls: credentials for the family's STUN/TURN server (XEP-0215),\n" +
              "    -- each naming the member, so that coturn's quotas count per member\n" +
              '    "turn_external"; "family_xmpp_calls";'
            : "-- (calls are turned off: no STUN/TURN service)",
        BACKUP: model.backup
            ? "-- The nightly backup's outcome, for the post-deploy check and the admins' alert.\n" +
              `family_backup_status_file = ${luaString(paths.backupStatusFile)}\n` +
              `family_backup_max_age_hours = ${BACKUP_MAX_AGE_HOURS}`
            : "-- Backups are turned off (family-xmpp:backup is false): nothing is backed up.",
        CALLS: model.calls
            ? renderProsodyCallSettings(model, host).trimEnd()
            : "-- Calls are turned off (family-xmpp:calls is false).",
    });
}

/**
 * Where other servers reach this one, and whom this one reaches: with federation on, everyone, on
 * the VPS's server-to-server ports; with it off, no port at all, and only the push services of the
 * family's apps (mod_family_federation).
 */
function renderFederationSettings(model: FamilyModel, host: ServerHost): string {
    const { s2sPort, s2sDirectTlsPort } = host.listeners;
    if (model.federation) {
        return [
            "-- Federation: other servers deliver here with STARTTLS and with direct TLS (XEP-0368).",
            `s2s_ports = { ${s2sPort} }`,
            `s2s_direct_tls_ports = { ${s2sDirectTlsPort} }`,
        ].join("\n");
    }
    return [
        "-- Federation is switched off (family-xmpp:federation is false): no port for other servers,",
        "-- and this server connects to none but the push services that wake the family's phones",
        "-- (family-xmpp:pushGateways, XEP-0357), see mod_family_federation.",
        "s2s_ports = { }",
        "s2s_direct_tls_ports = { }",
        "family_push_gateways = {",
        ...model.pushGateways.map((gateway) => `    ${luaString(gateway)};`),
        "}",
    ].join("\n");
}

/** libunbound's settings: none on the VPS; the federation lab's special-use zone looked up. */
function renderResolverSettings(host: ServerHost): string {
    const zone = host.resolver.specialUseZone;
    if (zone === null)
        return "-- Other servers are found in DNS through the system's resolver (lua-unbound).";
    return [
        `-- Other servers are found in DNS through the system's resolver (lua-unbound), which must`,
        `-- look up the special-use zone ${zone} (RFC 6761) that every server of this network lives in.`,
        `unbound = { options = { ["local-zone:"] = ${luaString(`${zone} transparent`)} } }`,
    ].join("\n");
}

/**
 * The shared-roster file of Prosody's mod_groups: a `[Group]` heading, then one `jid=Name` line per
 * member. Members of a group see each other, with subscription "both", and nobody else.
 */
export function renderGroupsFile(model: FamilyModel): string {
    const nameOf = new Map(model.members.map((member) => [member.username, member.name]));
    const sections = model.groups.map((group) => {
        const lines = group.members.map((username) => `${jidOf(model, username)}=${nameOf.get(username)}`);
        return [`[${group.name}]`, ...lines].join("\n");
    });
    return `${sections.join("\n\n")}\n`;
}

/** A retention period ("30d", "4w", "6m", "1y") in seconds; "forever" is -1, Prosody's "never". */
export function retentionSeconds(retention: string): number {
    if (retention === "forever") return -1;
    const days = { d: 1, w: 7, m: 30, y: 365 }[retention.slice(-1) as "d" | "w" | "m" | "y"];
    return Number(retention.slice(0, -1)) * days * 86400;
}
