import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CACHE_DIR } from "./debian-image";

/**
 * The .deb files the containers' apt downloads, kept in the boot test's cache and bind-mounted
 * over each container's /var/cache/apt/archives: the first boot and the rebuild of one run, and
 * the next run, take from it what Debian's mirror already gave, instead of fetching every package
 * again. The user data stays as rendered; apt simply finds the files where it keeps its own.
 *
 * apt-get keeps what it downloads (unlike `apt`, it never deletes after installing), Debian's
 * image sets no periodic clean, and the files it moves out of `partial/` belong to root (0644):
 * the boot test checks that the first boot's packages are all here afterwards.
 */
export const PACKAGE_CACHE_DIR = join(CACHE_DIR, "apt-archives");
const CONTAINER_ARCHIVES = "/var/cache/apt/archives";

export function preparePackageCache(): { hostDir: string; containerDir: string } {
    // apt itself makes `partial/` its download user's when it starts.
    mkdirSync(join(PACKAGE_CACHE_DIR, "partial"), { recursive: true });
    return { hostDir: PACKAGE_CACHE_DIR, containerDir: CONTAINER_ARCHIVES };
}

/**
 * The cached archive files by package: `name_version` (an epoch's colon written `%3a`, as apt
 * names its downloads `name_version_arch.deb`) to the file's name.
 */
export function cachedPackages(): Map<string, string> {
    return new Map(
        readdirSync(PACKAGE_CACHE_DIR)
            .filter((name) => name.endsWith(".deb"))
            .map((name) => [name.replace(/_[^_]+\.deb$/, ""), name]),
    );
}

/**
 * Drops every file but those the last boot installed (older versions, superseded by an update),
 * so that the cache holds one version of each package the server uses.
 */
export function prunePackageCache(keep: Set<string>): number {
    let removed = 0;
    for (const [pkg, file] of cachedPackages()) {
        if (keep.has(pkg)) continue;
        rmSync(join(PACKAGE_CACHE_DIR, file), { force: true });
        removed++;
    }
    return removed;
}

/**
 * The packages apt installed or upgraded, as `name_version` (see `cachedPackages`), read from its
 * `/var/log/apt/history.log`: `Install: lua5.4:amd64 (5.4.7-1, automatic), ...` and
 * `Upgrade: openssl:amd64 (old, new)`. The log gives architecture-independent packages the
 * machine's architecture, so the architecture is left out.
 */
export function packagesInstalled(history: string): string[] {
    return history
        .split("\n")
        .filter((line) => /^(Install|Upgrade): /.test(line))
        .flatMap((line) => [...line.matchAll(/(?:: |\), )([^ :,]+):[a-z0-9]+ \(([^,)]+)(?:, ([^,)]+))?/g)])
        .map(([, name, first, second]) => {
            // Upgrade lines give (old, new), Install lines (version) or (version, automatic).
            const version = second && second !== "automatic" ? second : first;
            return `${name}_${version.replace(/:/g, "%3a")}`;
        });
}
