import { conferenceHost, FamilyModel, jidOf, uploadHost } from "../model/family";
import { BACKUP_MAX_AGE_HOURS } from "../model/known-values";
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
        S2S_PORT: String(listeners.s2sPort),
        C2S_DIRECT_TLS_PORT: String(listeners.c2sDirectTlsPort),
        S2S_DIRECT_TLS_PORT: String(listeners.s2sDirectTlsPort),
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
