/**
 * Where things live on the server. The local try-out and the tests map the same names into a
 * state directory (see `ServerPaths`), so both run the very same rendered files.
 */
export interface ServerPaths {
    readonly prosodyConfig: string;
    readonly groupsFile: string;
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

/** The Hetzner volume is mounted here; everything that must survive a rebuild lives below it. */
export const DATA_MOUNT = "/srv/family-data";

export const PRODUCTION_PATHS: ServerPaths = {
    prosodyConfig: "/etc/prosody/prosody.cfg.lua",
    groupsFile: "/etc/prosody/family-groups.txt",
    dataPath: `${DATA_MOUNT}/prosody`,
    pidfile: "/run/prosody/prosody.pid",
    certificatesDir: "/etc/prosody/certs",
    logFile: "/var/log/prosody/prosody.log",
    prosodySecretsDir: "/etc/prosody/secrets.d",
    turnConfig: "/etc/turnserver.conf",
    turnCertificate: "/etc/coturn/fullchain.pem",
    turnPrivateKey: "/etc/coturn/privkey.pem",
};

export const PRODUCTION_LISTENERS: Listeners = {
    interfaces: ["*", "::"],
    c2sPort: 5222,
    s2sPort: 5269,
    c2sDirectTlsPort: 5223,
    s2sDirectTlsPort: 5270,
    httpsPort: 443,
    turnInterfaces: [],
    turnPort: 3478,
    turnsPort: 5349,
};
