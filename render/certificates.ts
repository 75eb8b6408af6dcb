import { conferenceHost, FamilyModel, uploadHost } from "../model/family";
import { PRODUCTION_HOST, ServerFile, ServerHost } from "./layout";
import { renderScript, shellWord } from "./template";

/** certbot's configuration lives on the data volume, so a rebuilt server keeps its certificate. */
export const LETSENCRYPT_ON_VOLUME = PRODUCTION_HOST.paths.letsEncryptState;
export const IMPORT_HOOK = "/usr/local/sbin/family-xmpp-import-certificate";
const CREDENTIALS_DIR = "/etc/family-xmpp";
export const CREDENTIALS_FILE = `${CREDENTIALS_DIR}/cloudflare.ini`;

/** Every name one certificate covers: the domain (apex JIDs), the server, rooms and uploads. */
export function certificateNames(model: FamilyModel): string[] {
    return [model.domain, model.hostname, conferenceHost(model), uploadHost(model)];
}

/** certbot's deploy hook, also run by the certificate step. */
export function renderImportHook(model: FamilyModel, host: ServerHost = PRODUCTION_HOST): string {
    const { paths } = host;
    return renderScript(
        "import-certificate.sh",
        {
            DOMAIN: shellWord(model.domain),
            LIVE_DIR: shellWord(paths.letsEncryptLive),
            TURN_CERTIFICATE: shellWord(paths.turnCertificate),
            TURN_PRIVATE_KEY: shellWord(paths.turnPrivateKey),
            TURN_OWNER: shellWord(host.owners.turnSecrets),
            RELOAD_TURN_CERTIFICATE: host.commands.reloadTurnCertificate,
        },
        host,
    );
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
    return renderScript(
        "store-dns-credentials.sh",
        { CREDENTIALS_DIR: shellWord(CREDENTIALS_DIR), CREDENTIALS_FILE: shellWord(CREDENTIALS_FILE) },
        PRODUCTION_HOST,
    );
}

export function renderObtainCertificate(model: FamilyModel): string {
    return renderScript(
        "obtain-certificate.sh",
        {
            DOMAIN: shellWord(model.domain),
            CONTACT_EMAIL: shellWord(model.certificates.acmeEmail ?? ""),
            STAGING: model.certificates.staging ? "true" : "false",
            CREDENTIALS_FILE: shellWord(CREDENTIALS_FILE),
            IMPORT_HOOK: IMPORT_HOOK,
            NAMES: certificateNames(model)
                .map((name) => `-d ${shellWord(name)}`)
                .join(" "),
        },
        PRODUCTION_HOST,
    );
}
