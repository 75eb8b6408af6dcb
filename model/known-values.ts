/** The Pulumi project name: every family-xmpp config key is `family-xmpp:<key>`. */
export const CONFIG_NAMESPACE = "family-xmpp";

/** Hetzner Cloud locations (API names). */
export const HETZNER_LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;

/**
 * Hetzner Cloud server types that can be ordered today and run the `debian-13` image
 * (x86 "cx"/"cpx"/"ccx" and Arm "cax" lines). Older generations (cx22, cpx11, ...) are
 * deprecated by Hetzner and no longer orderable, so they are not offered here.
 */
export const HETZNER_SERVER_TYPES = [
    "cx23",
    "cx33",
    "cx43",
    "cx53",
    "cax11",
    "cax21",
    "cax31",
    "cax41",
    "cpx12",
    "cpx22",
    "cpx32",
    "cpx42",
    "cpx52",
    "cpx62",
    "ccx13",
    "ccx23",
    "ccx33",
    "ccx43",
    "ccx53",
    "ccx63",
] as const;

/**
 * The ports the server listens on, the one home of these numbers: Prosody's and coturn's config,
 * the firewall, the SRV records and the validation of `callRelayPorts` are all built from them.
 */
export const SERVER_PORTS = {
    /** Apps, STARTTLS (RFC 6120). */
    c2s: 5222,
    /** Apps, direct TLS (XEP-0368). */
    c2sDirectTls: 5223,
    /** Other servers, STARTTLS. */
    s2s: 5269,
    /** Other servers, direct TLS. */
    s2sDirectTls: 5270,
    /** Shared files over HTTPS: the port every network lets through. */
    https: 443,
    /** STUN and TURN over UDP and TCP. */
    turn: 3478,
    /** TURN over TLS. */
    turns: 5349,
} as const;

/**
 * What a family gets for every key it leaves out. Pulumi.yaml documents each of these ("Default
 * …"), and a test keeps the two equal.
 */
export const DEFAULTS = {
    location: "fsn1",
    /**
     * The cheapest x86 type: the tests run Debian's amd64 packages, so production runs the very
     * same binaries. `cax11` (Arm) is a few cents cheaper and works too; a family may choose it.
     */
    serverType: "cx23",
    backups: false,
    volumeSizeGb: 10,
    groupName: "Family",
    sshAllowedCidrs: ["0.0.0.0/0", "::/0"],
    federation: true,
    /**
     * The push services (XEP-0357 app servers) of the apps families use, as each app names it:
     * - Conversations (Play Store build): `p2.siacs.eu`, APP_SERVER in
     *   iNPUTmice/Conversations src/playstore/.../services/PushManagementService.java and the
     *   app server's README (github.com/iNPUTmice/p2);
     * - Monal: `eu.prod.push.monal-im.org`, getSelectedPushServerBasedOnLocale in
     *   monal-im/Monal Monal/Classes/HelperTools.m (its former `us.prod.` service is listed
     *   there as invalid);
     * - Siskin IM (and Tigase's Android app): `push.tigase.im`, pushServiceJid in
     *   tigase/siskin-im and tigase/siskin-im#51 ("Can your server connect with push.tigase.im?");
     * - Snikket: `push.snikket.net` (Android, Play Store) and `push-ios.snikket.net` (iOS), the
     *   `isolate_except_domains` of snikket-im/snikket-server ansible/files/prosody.cfg.lua and
     *   https://snikket.org/app/privacy/ ; snikket-im/snikket-ios#222 is a server with port 5269
     *   closed whose iPhones got no notifications.
     */
    pushGateways: [
        "p2.siacs.eu",
        "eu.prod.push.monal-im.org",
        "push.tigase.im",
        "push.snikket.net",
        "push-ios.snikket.net",
    ],
    archiveRetention: "1y",
    uploadSizeLimitMb: 100,
    uploadDailyQuotaMb: 1000,
    calls: true,
    /** 256 ports: one per relayed call leg, far more than a family's simultaneous calls. */
    callRelayPorts: { min: 49152, max: 49407 },
    letsEncryptStaging: false,
    allowWildcardCertificates: false,
    /** A week: time to post a printed sheet to grandmother, short enough that a lost one goes stale. */
    welcomeLinkDays: 7,
    language: "en",
    /** Every night at 03:30 UTC; restic keeps a week of days, a month of weeks, a year of months. */
    backup: { schedule: "03:30", keep: { daily: 7, weekly: 4, monthly: 12 } },
} as const;

/** The stack secrets that open the backup repository: an SSH key for SFTP, an access key for S3. */
export const BACKUP_CREDENTIAL_KEYS = [
    "backupSshKey",
    "backupS3AccessKeyId",
    "backupS3SecretAccessKey",
] as const;

/** The most backups of one kind (daily, weekly, monthly) the family may keep. */
export const BACKUP_KEEP_LIMIT = 1000;

/** A last good backup older than this is a problem: the check fails and the admins get a message. */
export const BACKUP_MAX_AGE_HOURS = 48;

/** The most days a welcome link may stay valid: a link is a key to an account until it is used. */
export const MAX_WELCOME_LINK_DAYS = 90;

/** The languages of the welcome sheets and the password page, with their names in English. */
export const LANGUAGES = { en: "English", nb: "Norwegian Bokmål" } as const;
export type Language = keyof typeof LANGUAGES;

/** Hetzner's limits for a volume, in GB. */
export const VOLUME_SIZE_LIMITS = { min: 10, max: 10240 } as const;

export const SSH_KEY_TYPES = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

/**
 * The most entries a config list may hold: far more than a family needs, few enough that a
 * mistake (or a pasted list) cannot turn into thousands of resources, records or firewall rules.
 * Members must also fit in the server's first-boot data (Hetzner's 32 KiB of user data), which
 * the validator checks by rendering it: some 700 do.
 */
export const LIST_LIMITS = {
    members: { most: 1000, why: "more could never fit in Hetzner's 32 KiB of first-boot data" },
    removedMembers: { most: 1000, why: "each erase is a step of its own" },
    groups: { most: 50, why: "each group is a chat room and a contact-list heading" },
    sshPublicKeys: { most: 20, why: "each key can log in as root" },
    sshAllowedCidrs: { most: 50, why: "each network is a source in the firewall's SSH rule" },
    pushGateways: { most: 20, why: "each is a server reached even with federation off" },
    extraCaaIssuers: { most: 10, why: "each is a CAA record" },
    "mail.mx": { most: 10, why: "each is an MX record" },
    "mail.spfIncludes": { most: 10, why: "SPF allows at most 10 DNS lookups (RFC 7208)" },
    "mail.dkim": { most: 10, why: "each is a CNAME record" },
} as const;

/** The longest history retention short of "forever": 100 years, in each unit. */
export const RETENTION_LIMITS = { d: 36500, w: 5214, m: 1200, y: 100 } as const;

/**
 * Shared files may take at most this part of the data volume (http_file_share_global_quota); the
 * rest stays for accounts, message history, certificates and the file system's own overhead.
 */
export const SHARED_FILES_SHARE_OF_VOLUME = 0.5;
