import { gzipSync } from "node:zlib";
import { dump } from "js-yaml";
import { FamilyModel } from "../model/family";
import { PublicAddresses } from "./layout";
import { FIRST_BOOT_SCRIPT, renderServerFiles } from "./server-files";

/** Hetzner rejects user data above 32 KiB. */
export const HETZNER_USER_DATA_LIMIT = 32 * 1024;

/**
 * Debian's packages the server runs: Debian 13's on the VPS; the tests run the same Prosody 13.0.1
 * (Debian 12 with bookworm-backports), and the boot test installs these very packages on Debian 13.
 */
export function serverPackages(model: FamilyModel): string[] {
    return [
        "prosody",
        "prosody-modules",
        // What the welcome page (mod_invites_page) styles itself with, served by mod_http_libjs.
        "libjs-bootstrap4",
        "libjs-jquery",
        "lua-unbound",
        "openssl",
        "unattended-upgrades",
        "certbot",
        "python3-certbot-dns-cloudflare",
        ...(model.calls ? ["coturn"] : []),
        ...(model.backup ? ["restic"] : []),
    ];
}

/** Files above this size travel compressed: Hetzner's 32 KiB must hold a whole family. */
export const COMPRESS_ABOVE_BYTES = 1024;

/** A file's content as cloud-init's write_files takes it: plain text, or gzip in base64 if large. */
function fileContent(content: string): { content: string; encoding?: "gz+b64" } {
    if (Buffer.byteLength(content, "utf8") <= COMPRESS_ABOVE_BYTES) return { content };
    return { encoding: "gz+b64", content: gzipSync(content, { level: 9 }).toString("base64") };
}

/** How Hetzner names an attached volume's block device. */
export function hetznerVolumeDevice(volumeId: string): string {
    return `/dev/disk/by-id/scsi-0HC_Volume_${volumeId}`;
}

/**
 * The cloud-init user data that boots a fresh Debian 13 server into the family's Prosody. It holds
 * no secret: accounts and their passwords arrive later, over SSH, from the provisioning step.
 */
export function renderCloudInit(
    model: FamilyModel,
    volumeDevice: string,
    addresses: PublicAddresses,
    deployPublicKey?: string,
): string {
    const userData = renderUserData(model, volumeDevice, addresses, deployPublicKey);
    const size = Buffer.byteLength(userData, "utf8");
    if (size > HETZNER_USER_DATA_LIMIT) {
        // The validator refuses such a family (userDataBytes): reaching this is a bug.
        throw new Error(
            `the rendered user data is ${size} bytes; Hetzner accepts at most ${HETZNER_USER_DATA_LIMIT}`,
        );
    }
    return userData;
}

/**
 * The size of the family's user data with the longest values Hetzner fills in (volume id,
 * addresses, deploy key), for the validator: a family whose first-boot data cannot fit in Hetzner's
 * 32 KiB is a config problem, found before anything is deployed.
 */
export function userDataBytes(model: FamilyModel): number {
    const longest = {
        volumeDevice: hetznerVolumeDevice("9".repeat(20)),
        addresses: { ipv4: "255.255.255.255", ipv6: "ffff:ffff:ffff:ffff::/64" },
        deployPublicKey: `ssh-ed25519 ${"A".repeat(68)}`,
    };
    return Buffer.byteLength(
        renderUserData(model, longest.volumeDevice, longest.addresses, longest.deployPublicKey),
        "utf8",
    );
}

function renderUserData(
    model: FamilyModel,
    volumeDevice: string,
    addresses: PublicAddresses,
    deployPublicKey?: string,
): string {
    const files = renderServerFiles(model, volumeDevice, addresses, deployPublicKey);
    const document = {
        hostname: model.hostname.split(".")[0],
        fqdn: model.hostname,
        prefer_fqdn_over_hostname: true,
        ssh_pwauth: false,
        // The stack and the family's admins log in as root, by key only (see the sshd drop-in);
        // Debian's stock cloud.cfg would otherwise turn root's keys into "login as debian" stubs.
        disable_root: false,
        package_update: true,
        package_upgrade: true,
        packages: serverPackages(model),
        write_files: files.map((file) => ({
            path: file.path,
            ...fileContent(file.content),
            owner: file.owner,
            permissions: file.permissions,
            ...(file.afterPackages ? { defer: true } : {}),
        })),
        runcmd: [[FIRST_BOOT_SCRIPT]],
    };
    const header =
        "#cloud-config\n" +
        `# family-xmpp: first boot of ${model.hostname}, the XMPP server for ${model.domain}.\n`;
    return header + dump(document, { noRefs: true, lineWidth: -1 });
}
