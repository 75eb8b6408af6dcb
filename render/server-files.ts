import { FamilyModel } from "../model/family";
import { DATA_MOUNT, PRODUCTION_HOST, PublicAddresses, ServerFile, ServerHost } from "./layout";
import { renderGroupsFile, renderProsodyConfig } from "./prosody";
import { renderFamilyFile } from "./rooms";
import { LETSENCRYPT_ON_VOLUME, renderImportHookFile } from "./certificates";
import { renderTurnServerConfig } from "./calls";
import { fillTemplate, renderScript, shellWord } from "./template";
import { renderWelcomePage } from "./welcome";

export const FIRST_BOOT_SCRIPT = "/usr/local/sbin/family-xmpp-first-boot";
/** apt's retries for every apt run on the server: first boot, the calls step, security updates. */
export const APT_RETRIES_FILE = "/etc/apt/apt.conf.d/80family-xmpp-retries";

/**
 * The project's own Prosody modules: the family kept in step with the config, TURN credentials per
 * member, nothing for strangers on HTTPS, and federation kept off when the config says so (loaded
 * only then).
 */
const PROSODY_MODULES = [
    "mod_family_xmpp.lua",
    "mod_family_xmpp_calls.lua",
    "mod_family_xmpp_https.lua",
    "mod_family_federation.lua",
];

/**
 * The files that follow the family's config (members, groups, admins), and the project's Prosody
 * module that reads them. cloud-init writes them on first boot; afterwards the provisioning step
 * keeps the server's copies equal to these.
 */
export function renderFamilyFiles(model: FamilyModel, host: ServerHost = PRODUCTION_HOST): ServerFile[] {
    const { paths, owners } = host;
    const prosodyFile = (path: string, content: string): ServerFile => ({
        path,
        content,
        permissions: "0640",
        owner: owners.prosodyFiles,
        afterPackages: true,
    });
    return [
        prosodyFile(paths.prosodyConfig, renderProsodyConfig(model, host)),
        prosodyFile(paths.groupsFile, renderGroupsFile(model)),
        prosodyFile(paths.familyFile, renderFamilyFile(model)),
        ...PROSODY_MODULES.map((module) =>
            prosodyFile(`${paths.prosodyModulesDir}/${module}`, fillTemplate(module, {})),
        ),
        prosodyFile(
            `${paths.prosodyModulesDir}/mod_family_welcome.lua`,
            fillTemplate("mod_family_welcome.lua", {}),
        ),
        prosodyFile(`${paths.prosodyModulesDir}/family_welcome.html`, renderWelcomePage(model)),
    ];
}

/**
 * Who may log in as root: the family's admins (their keys from config) and the stack itself (its
 * deploy key, known only at deploy time). Kept by the provisioning step like the family's files,
 * so adding a key never replaces the server.
 */
export function renderAuthorizedKeys(model: FamilyModel, deployPublicKey?: string): ServerFile {
    const keys = [...model.sshPublicKeys, ...(deployPublicKey ? [deployPublicKey.trim()] : [])];
    return {
        path: "/root/.ssh/authorized_keys",
        content:
            "# Rendered by family-xmpp: the family's admin keys, then the stack's own deploy key.\n" +
            `${keys.map((key) => `${key}\n`).join("")}`,
        permissions: "0600",
        owner: "root:root",
        afterPackages: false,
    };
}

/** The family files as the VPS has them: Prosody's files, root's authorized keys, certbot's hook. */
export function renderServerFamilyFiles(model: FamilyModel, deployPublicKey?: string): ServerFile[] {
    return [
        ...renderFamilyFiles(model),
        renderAuthorizedKeys(model, deployPublicKey),
        renderImportHookFile(model),
    ];
}

/** Every file the server boots with: the system's hardening plus the family's files. */
export function renderServerFiles(
    model: FamilyModel,
    volumeDevice: string,
    addresses: PublicAddresses,
    deployPublicKey?: string,
): ServerFile[] {
    const system: ServerFile[] = [
        {
            path: "/etc/ssh/sshd_config.d/10-family-xmpp.conf",
            content: fillTemplate("sshd-family-xmpp.conf", {}),
            permissions: "0644",
            owner: "root:root",
            afterPackages: false,
        },
        {
            path: "/etc/apt/apt.conf.d/20auto-upgrades",
            content: fillTemplate("20auto-upgrades", {}),
            permissions: "0644",
            owner: "root:root",
            afterPackages: false,
        },
        {
            // Not deferred: cloud-init writes it before its package stage, whose apt it makes retry.
            path: APT_RETRIES_FILE,
            content: fillTemplate("80family-xmpp-retries", {}),
            permissions: "0644",
            owner: "root:root",
            afterPackages: false,
        },
        {
            path: "/etc/systemd/system/prosody.service.d/family-xmpp.conf",
            content: fillTemplate("prosody-service.conf", { DATA_MOUNT }),
            permissions: "0644",
            owner: "root:root",
            afterPackages: false,
        },
        {
            path: FIRST_BOOT_SCRIPT,
            content: renderScript(
                "first-boot.sh",
                {
                    DATA_MOUNT: shellWord(DATA_MOUNT),
                    VOLUME_DEVICE: shellWord(volumeDevice),
                    LETSENCRYPT_ON_VOLUME: shellWord(LETSENCRYPT_ON_VOLUME),
                    DATA_PATH: shellWord(PRODUCTION_HOST.paths.dataPath),
                    CERTIFICATES_DIR: shellWord(PRODUCTION_HOST.paths.certificatesDir),
                    DOMAIN: shellWord(model.domain),
                    HOSTNAME: shellWord(model.hostname),
                    PROSODY_SECRETS_DIR: shellWord(PRODUCTION_HOST.paths.prosodySecretsDir),
                },
                PRODUCTION_HOST,
            ),
            permissions: "0755",
            owner: "root:root",
            afterPackages: false,
        },
        ...(model.calls ? [renderFirstBootTurnConfig(model, addresses)] : []),
    ];
    return [...system, ...renderServerFamilyFiles(model, deployPublicKey)];
}

/**
 * coturn's config as the package finds it when it is installed and started: complete but for the
 * secret, so it refuses every request until the calls step brings the secret over SSH.
 */
function renderFirstBootTurnConfig(model: FamilyModel, addresses: PublicAddresses): ServerFile {
    return {
        path: PRODUCTION_HOST.paths.turnConfig,
        content: renderTurnServerConfig(model, addresses),
        permissions: "0644",
        owner: "root:root",
        afterPackages: false,
    };
}
