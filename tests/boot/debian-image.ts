import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./shell";

/**
 * A Debian 12 root filesystem with what a Hetzner `debian-12` image has that matters here:
 * systemd, cloud-init, OpenSSH, sudo, curl, locales, and Debian's mirrors for bookworm, its
 * updates and its security updates. Built once with debootstrap and kept, packed, in a cache
 * folder this test owns (FAMILY_XMPP_BOOT_CACHE, default /var/cache/family-xmpp-boot-test).
 */
const MIRROR = "http://deb.debian.org/debian";
const PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "cloud-init",
    "iproute2",
    "ca-certificates",
    "python3-cffi-backend",
    "locales",
    "openssh-server",
    "sudo",
    "curl",
    "netbase",
];
const SOURCES = [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
].join("\n");
/** The test's datasource: NoCloud seed files; the network is already set up by the namespace. */
const CLOUD_CFG = "datasource_list: [ NoCloud, None ]\nnetwork: {config: disabled}\n";
const RECIPE_VERSION = "1";

export const CACHE_DIR = process.env.FAMILY_XMPP_BOOT_CACHE ?? "/var/cache/family-xmpp-boot-test";
/** Console logs and phase timings of the latest boot test (read by bench/boot-to-chat.ts). */
export const LAST_RUN_DIR = join(CACHE_DIR, "last-run");

export function imagePath(): string {
    const recipe = createHash("sha256")
        .update([RECIPE_VERSION, MIRROR, ...PACKAGES, SOURCES, CLOUD_CFG].join("\n"))
        .digest("hex")
        .slice(0, 12);
    return join(CACHE_DIR, `debian-12-${recipe}.tar.zst`);
}

/** The packed image, built first if the cache does not have it. Returns whether it was built now. */
export function ensureImage(): { path: string; built: boolean } {
    const path = imagePath();
    if (existsSync(path)) return { path, built: false };
    mkdirSync(CACHE_DIR, { recursive: true });
    const work = mkdtempSync(join(CACHE_DIR, "build-"));
    const root = join(work, "root");
    try {
        run("debootstrap", [
            "--variant=minbase",
            `--include=${PACKAGES.join(",")}`,
            "bookworm",
            root,
            MIRROR,
        ]);
        writeFileSync(join(root, "etc/apt/sources.list"), `${SOURCES}\n`);
        writeFileSync(join(root, "etc/cloud/cloud.cfg.d/90-boot-test-datasource.cfg"), CLOUD_CFG);
        writeFileSync(join(root, "etc/locale.gen"), "en_US.UTF-8 UTF-8\n");
        run("chroot", [root, "locale-gen"]);
        // A fresh machine id on every boot, as a new VPS gets.
        writeFileSync(join(root, "etc/machine-id"), "");
        run("chroot", [root, "apt-get", "clean"]);
        run("tar", [
            "-C",
            root,
            "--numeric-owner",
            "-I",
            "zstd -T0",
            "-cf",
            join(work, "image.tar.zst"),
            ".",
        ]);
        renameSync(join(work, "image.tar.zst"), path);
        return { path, built: true };
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}

export function unpackImage(image: string, into: string): void {
    mkdirSync(into, { recursive: true });
    run("tar", ["-C", into, "--numeric-owner", "-I", "zstd", "-xf", image]);
}
