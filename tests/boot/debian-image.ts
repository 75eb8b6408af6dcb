import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./shell";

/**
 * A Debian 13 root filesystem with what a Hetzner `debian-13` image has that matters here:
 * systemd, cloud-init, OpenSSH, sudo, curl, locales, and Debian's mirrors for trixie, its
 * updates and its security updates. Built once with debootstrap and kept, packed, in a cache
 * folder this test owns (FAMILY_XMPP_BOOT_CACHE, default /var/cache/family-xmpp-boot-test).
 */
const SUITE = "trixie";
const MIRROR = "http://deb.debian.org/debian";
const PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "cloud-init",
    "iproute2",
    "ca-certificates",
    // debootstrap does not resolve the virtual package python3-cryptography needs (cloud-init's
    // dependency): without it the build fails after about 100 s, on trixie as on bookworm.
    "python3-cffi-backend",
    // A dependency of trixie's cloud-init anyway; named because the image generates its locale.
    "locales",
    "openssh-server",
    "sudo",
    "curl",
    "netbase",
];
/** Debian 13's own format (deb822), as a trixie system has it. */
const SOURCES = [
    "Types: deb",
    `URIs: ${MIRROR}`,
    `Suites: ${SUITE} ${SUITE}-updates`,
    "Components: main",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    "",
    "Types: deb",
    "URIs: http://deb.debian.org/debian-security",
    `Suites: ${SUITE}-security`,
    "Components: main",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    "",
].join("\n");
/** The test's datasource: NoCloud seed files; the network is already set up by the namespace. */
const CLOUD_CFG = "datasource_list: [ NoCloud, None ]\nnetwork: {config: disabled}\n";
const RECIPE_VERSION = "2";
/** A download that fails on every one of debootstrap's own 10 tries fails the build: try again. */
const BUILD_ATTEMPTS = 3;
/** debootstrap's errors for a download that failed (functions: NOGETREL, NOGETRELSIG, COULDNTDL*). */
const NETWORK_FAILURE = /Failed getting release (signature )?file|Couldn't download/;

export const CACHE_DIR = process.env.FAMILY_XMPP_BOOT_CACHE ?? "/var/cache/family-xmpp-boot-test";
/** Console logs and phase timings of the latest boot test (read by bench/boot-to-chat.ts). */
export const LAST_RUN_DIR = join(CACHE_DIR, "last-run");
/** debootstrap's downloads, kept so that a retried build fetches only what it lacks. */
const DEBOOTSTRAP_DEBS = join(CACHE_DIR, "debootstrap-debs");

export function imagePath(): string {
    const recipe = createHash("sha256")
        .update([RECIPE_VERSION, SUITE, MIRROR, ...PACKAGES, SOURCES, CLOUD_CFG].join("\n"))
        .digest("hex")
        .slice(0, 12);
    return join(CACHE_DIR, `debian-13-${recipe}.tar.zst`);
}

/** The packed image, built first if the cache does not have it. Returns whether it was built now. */
export function ensureImage(): { path: string; built: boolean } {
    const path = imagePath();
    if (existsSync(path)) return { path, built: false };
    mkdirSync(DEBOOTSTRAP_DEBS, { recursive: true });
    for (let attempt = 1; ; attempt++) {
        // A fresh tree every time: debootstrap cannot resume a tree it failed to finish.
        const work = mkdtempSync(join(CACHE_DIR, "build-"));
        try {
            buildImage(join(work, "root"), join(work, "image.tar.zst"));
            renameSync(join(work, "image.tar.zst"), path);
            return { path, built: true };
        } catch (error) {
            const message = (error as Error).message;
            if (attempt >= BUILD_ATTEMPTS || !NETWORK_FAILURE.test(message)) throw error;
            console.log(`boot test: debootstrap lost Debian's mirror (try ${attempt}), trying again`);
        } finally {
            rmSync(work, { recursive: true, force: true });
        }
    }
}

function buildImage(root: string, packed: string): void {
    run("debootstrap", [
        "--variant=minbase",
        `--include=${PACKAGES.join(",")}`,
        `--cache-dir=${DEBOOTSTRAP_DEBS}`,
        SUITE,
        root,
        MIRROR,
    ]);
    rmSync(join(root, "etc/apt/sources.list"), { force: true });
    writeFileSync(join(root, "etc/apt/sources.list.d/debian.sources"), SOURCES);
    writeFileSync(join(root, "etc/cloud/cloud.cfg.d/90-boot-test-datasource.cfg"), CLOUD_CFG);
    writeFileSync(join(root, "etc/locale.gen"), "en_US.UTF-8 UTF-8\n");
    run("chroot", [root, "locale-gen"]);
    // A fresh machine id on every boot, as a new VPS gets.
    writeFileSync(join(root, "etc/machine-id"), "");
    run("chroot", [root, "apt-get", "clean"]);
    run("tar", ["-C", root, "--numeric-owner", "-I", "zstd -T0", "-cf", packed, "."]);
}

export function unpackImage(image: string, into: string): void {
    mkdirSync(into, { recursive: true });
    run("tar", ["-C", into, "--numeric-owner", "-I", "zstd", "-xf", image]);
}
