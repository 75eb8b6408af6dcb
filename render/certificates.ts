import { conferenceHost, FamilyModel, uploadHost } from "../model/family";
import { DATA_MOUNT, PRODUCTION_PATHS, ServerPaths } from "./layout";
import { SERVER_PROSODYCTL } from "./provisioning";
import type { ServerFile } from "./server-files";
import { fillTemplate, shellWord } from "./template";

/** certbot's configuration lives on the data volume, so a rebuilt server keeps its certificate. */
export const LETSENCRYPT_ON_VOLUME = `${DATA_MOUNT}/letsencrypt`;
export const LETSENCRYPT_LIVE = "/etc/letsencrypt/live";
export const IMPORT_HOOK = "/usr/local/sbin/family-xmpp-import-certificate";
const CREDENTIALS_DIR = "/etc/family-xmpp";
export const CREDENTIALS_FILE = `${CREDENTIALS_DIR}/cloudflare.ini`;

/** Every name one certificate covers: the domain (apex JIDs), the server, rooms and uploads. */
export function certificateNames(model: FamilyModel): string[] {
    return [model.domain, model.hostname, conferenceHost(model), uploadHost(model)];
}

export interface ImportHookOptions {
    readonly prosodyctl?: string;
    /** Where certbot keeps each certificate's current files, one directory per certificate. */
    readonly liveDir?: string;
    readonly paths?: ServerPaths;
    /** How coturn is told to read its new copy: on the VPS, SIGUSR2, which keeps calls up. */
    readonly reloadTurnCertificate?: string;
}

/** certbot's deploy hook, also run by the certificate step. */
export function renderImportHook(model: FamilyModel, options: ImportHookOptions = {}): string {
    const paths = options.paths ?? PRODUCTION_PATHS;
    return fillTemplate("import-certificate.sh", {
        PROSODYCTL: options.prosodyctl ?? SERVER_PROSODYCTL,
        DOMAIN: shellWord(model.domain),
        LIVE_DIR: shellWord(options.liveDir ?? LETSENCRYPT_LIVE),
        TURN_CERTIFICATE: shellWord(paths.turnCertificate),
        TURN_PRIVATE_KEY: shellWord(paths.turnPrivateKey),
        RELOAD_TURN_CERTIFICATE:
            options.reloadTurnCertificate ??
            "if systemctl is-active --quiet coturn; " +
                "then systemctl kill --kill-whom=main --signal=USR2 coturn; fi",
    });
}

export function renderImportHookFile(model: FamilyModel): ServerFile {
    return {
        path: IMPORT_HOOK,
        content: renderImportHook(model),
        permissions: "0755",
        owner: "root:root",
        afterPackages: false,
    };
}

export function renderStoreDnsCredentials(): string {
    return fillTemplate("store-dns-credentials.sh", {
        CREDENTIALS_DIR: shellWord(CREDENTIALS_DIR),
        CREDENTIALS_FILE: shellWord(CREDENTIALS_FILE),
    });
}

export function renderObtainCertificate(model: FamilyModel): string {
    return fillTemplate("obtain-certificate.sh", {
        DOMAIN: shellWord(model.domain),
        CONTACT_EMAIL: shellWord(model.certificates.acmeEmail ?? ""),
        STAGING: model.certificates.staging ? "true" : "false",
        CREDENTIALS_FILE: shellWord(CREDENTIALS_FILE),
        IMPORT_HOOK: IMPORT_HOOK,
        NAMES: certificateNames(model)
            .map((name) => `-d ${shellWord(name)}`)
            .join(" "),
    });
}
