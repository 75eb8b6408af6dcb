import { SERVER_PORTS } from "../model/known-values";

/**
 * The server as the render layer sees it: where files live, what listens where, who owns what, and
 * how services are driven. The VPS is `PRODUCTION_HOST`; the local try-out and the tests build a
 * local instance of the same shape (scripts/local-server.ts), so every rendered file and script is
 * the same apart from what this object says.
 */
export interface ServerHost {
    readonly paths: ServerPaths;
    readonly listeners: Listeners;
    readonly owners: ServerOwners;
    readonly commands: ServerCommands;
    readonly resolver: Resolver;
}

/** How Prosody finds other servers: libunbound (Debian's lua-unbound) through the system's resolver. */
export interface Resolver {
    /**
     * A special-use zone (RFC 6761) that libunbound answers "no such name" for without asking
     * anyone, unless told to look it up: `test.` in the federation lab, where every server lives.
     * None on the VPS, whose peers have real names.
     */
    readonly specialUseZone: string | null;
}

export interface ServerPaths {
    readonly prosodyConfig: string;
    readonly groupsFile: string;
    /** The family as the project's Prosody module reads it: rooms, bookmarks (JSON). */
    readonly familyFile: string;
    /** The project's own Prosody modules (mod_family_xmpp). */
    readonly prosodyModulesDir: string;
    readonly dataPath: string;
    readonly pidfile: string;
    readonly certificatesDir: string;
    readonly logFile: string;
    /** Prosody reads every `*.cfg.lua` here: secrets the provisioning steps deliver (never in user data). */
    readonly prosodySecretsDir: string;
    /** coturn's config, with the calls secret appended by the provisioning step. */
    readonly turnConfig: string;
    /** coturn's own copy of the certificate (it runs as its own user), for TURN over TLS. */
    readonly turnCertificate: string;
    readonly turnPrivateKey: string;
    /** Where certbot keeps each certificate's current files, one directory per certificate. */
    readonly letsEncryptLive: string;
    /** certbot's whole state (account, certificates, renewal settings): what a restore brings back. */
    readonly letsEncryptState: string;
    /** The backup's repository password and credentials (root only), and its SSH settings. */
    readonly backupDir: string;
    /** The outcome of each backup, read by the project's Prosody module (no secret in it). */
    readonly backupStatusFile: string;
    /** Prosody's data copied here for the backup, on the same file system as the data. */
    readonly backupCopyDir: string;
    /** A restore unpacks the backup here first, on the same file system as the data. */
    readonly restoreDir: string;
    /** The backup, restore and alert commands. */
    readonly commandsDir: string;
    /** The backup's and the alert's systemd units. */
    readonly systemdUnitsDir: string;
}

export interface Listeners {
    readonly interfaces: readonly string[];
    /** STARTTLS for apps (RFC 6120). */
    readonly c2sPort: number;
    /** STARTTLS between servers. */
    readonly s2sPort: number;
    /** Direct TLS for apps (XEP-0368), for networks that let only TLS through. */
    readonly c2sDirectTlsPort: number;
    /** Direct TLS between servers (XEP-0368). */
    readonly s2sDirectTlsPort: number;
    /** HTTPS for shared files: 443, which networks that block everything else still let through. */
    readonly httpsPort: number;
    /** coturn's addresses; empty means every address of the server. */
    readonly turnInterfaces: readonly string[];
    /** STUN and TURN, over UDP and TCP. */
    readonly turnPort: number;
    /** TURN over TLS, for networks that let only TLS through. */
    readonly turnsPort: number;
}

/** `user:group` owners of the files the scripts write. */
export interface ServerOwners {
    /** Prosody's config files: readable by Prosody, writable by root only. */
    readonly prosodyFiles: string;
    /** coturn's config with the calls secret. */
    readonly turnSecrets: string;
    /** Prosody's copy of the secrets (secrets.d). */
    readonly prosodySecrets: string;
    /** Prosody's data: accounts, history, rooms, shared files (a restore gives them back to it). */
    readonly prosodyData: string;
    /** The backup's password and credentials. */
    readonly backupSecrets: string;
}

/** Shell commands the scripts run, as they differ between the VPS and the try-out. */
export interface ServerCommands {
    /**
     * prosodyctl, with whatever it needs to find this Prosody. The scripts call it through a shell
     * function of the same name, hence `command`.
     */
    readonly prosodyctl: string;
    /**
     * Restarts Prosody, which only a config from an older stack version needs (a server rebuilt
     * from the user data it was first created with).
     */
    readonly restartProsody: string;
    /** Makes coturn read a changed config (on the VPS, systemd restarts it). */
    readonly restartTurn: string;
    /** Brings coturn to a server built with calls off (the try-out installs nothing). */
    readonly installTurn: string;
    /** Makes coturn read a renewed certificate without dropping calls (SIGUSR2 on the VPS). */
    readonly reloadTurnCertificate: string;
    /** Stops Prosody and returns once it has written everything (the backup copies its data then). */
    readonly stopProsody: string;
    readonly startProsody: string;
    /** Brings restic to a server that started without it (backups turned on after its first boot). */
    readonly installRestic: string;
    /** Makes the backup's and the alert's timers run (and, with the units gone, stop). */
    readonly startBackupTimers: string;
    readonly stopBackupTimers: string;
}

/**
 * The server's public addresses, known once Hetzner assigned them (the try-out: its own address).
 * coturn never relays to them: a relay to the server itself would reach ports the firewall closes.
 */
export interface PublicAddresses {
    readonly ipv4: string;
    /** An address or, as Hetzner routes a /64 to each server, the network (e.g. `2a01:4f8:1:2::/64`). */
    readonly ipv6?: string;
}

/** A file the server gets, with the owner and mode it must have. */
export interface ServerFile {
    readonly path: string;
    readonly content: string;
    /** Octal, as a string ("0640"): cloud-init's YAML reader would turn a bare 0640 into 416. */
    readonly permissions: string;
    readonly owner: string;
    /**
     * Written after the packages are installed (cloud-init's `defer`), for files whose owner or
     * directory a package creates.
     */
    readonly afterPackages: boolean;
}

/** The Hetzner volume is mounted here; everything that must survive a rebuild lives below it. */
export const DATA_MOUNT = "/srv/family-data";

export const PRODUCTION_HOST: ServerHost = {
    paths: {
        prosodyConfig: "/etc/prosody/prosody.cfg.lua",
        groupsFile: "/etc/prosody/family-groups.txt",
        familyFile: "/etc/prosody/family.json",
        prosodyModulesDir: "/usr/local/lib/family-xmpp/prosody-modules",
        dataPath: `${DATA_MOUNT}/prosody`,
        pidfile: "/run/prosody/prosody.pid",
        certificatesDir: "/etc/prosody/certs",
        logFile: "/var/log/prosody/prosody.log",
        prosodySecretsDir: "/etc/prosody/secrets.d",
        turnConfig: "/etc/turnserver.conf",
        turnCertificate: "/etc/coturn/fullchain.pem",
        turnPrivateKey: "/etc/coturn/privkey.pem",
        letsEncryptLive: "/etc/letsencrypt/live",
        letsEncryptState: `${DATA_MOUNT}/letsencrypt`,
        backupDir: "/etc/family-xmpp/backup",
        backupStatusFile: "/var/lib/family-xmpp/backup-status",
        backupCopyDir: `${DATA_MOUNT}/backup-copy`,
        restoreDir: `${DATA_MOUNT}/restore`,
        commandsDir: "/usr/local/sbin",
        systemdUnitsDir: "/etc/systemd/system",
    },
    listeners: {
        interfaces: ["*", "::"],
        c2sPort: SERVER_PORTS.c2s,
        s2sPort: SERVER_PORTS.s2s,
        c2sDirectTlsPort: SERVER_PORTS.c2sDirectTls,
        s2sDirectTlsPort: SERVER_PORTS.s2sDirectTls,
        httpsPort: SERVER_PORTS.https,
        turnInterfaces: [],
        turnPort: SERVER_PORTS.turn,
        turnsPort: SERVER_PORTS.turns,
    },
    owners: {
        prosodyFiles: "root:prosody",
        turnSecrets: "root:turnserver",
        prosodySecrets: "root:prosody",
        prosodyData: "prosody:prosody",
        backupSecrets: "root:root",
    },
    commands: {
        prosodyctl: "command prosodyctl",
        restartProsody: "systemctl restart prosody",
        restartTurn: "systemctl enable --quiet coturn && systemctl restart coturn",
        installTurn:
            "apt-get update -q && DEBIAN_FRONTEND=noninteractive " +
            "apt-get install -y -q -o Dpkg::Options::=--force-confold coturn",
        reloadTurnCertificate:
            "if systemctl is-active --quiet coturn; " +
            "then systemctl kill --kill-whom=main --signal=USR2 coturn; fi",
        installRestic: "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q restic",
        stopProsody: "systemctl stop prosody",
        startProsody: "systemctl start prosody",
        startBackupTimers:
            "systemctl daemon-reload && " +
            "systemctl enable --quiet --now family-xmpp-backup.timer family-xmpp-backup-alert.timer",
        stopBackupTimers:
            "systemctl disable --quiet --now family-xmpp-backup.timer family-xmpp-backup-alert.timer " +
            "2>/dev/null || true",
    },
    resolver: { specialUseZone: null },
};
