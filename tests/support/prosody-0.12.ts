import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Debian 12's Prosody 0.12.3 (with Debian 12's prosody-modules), unpacked from its packages and
 * runnable on a Debian 12 machine that has Prosody 13 installed: what a family's server ran before
 * the move to Debian 13. For the data fixture of tests/upgrade.test.ts and the benchmarks only.
 */
export const PROSODY_012_PACKAGES = [
    "prosody=0.12.3-1+deb12u1",
    "prosody-modules=0.0~hg20230223.556bf57d6417+dfsg-1",
];

/**
 * Downloads the packages into `dir` (once; apt-get retries the mirror), unpacks them, and writes
 * `prosody` and `prosodyctl` that load their own code instead of the installed Prosody's. Returns
 * the folder holding those two, to put first on PATH. Needs Debian 12 (bookworm) apt sources.
 */
export function unpackProsody012(dir: string): string {
    const debs = join(dir, "debs");
    const root = join(dir, "root");
    const bin = join(dir, "bin");
    mkdirSync(debs, { recursive: true });
    if (readdirSync(debs).filter((file) => file.endsWith(".deb")).length < PROSODY_012_PACKAGES.length) {
        execFileSync("apt-get", ["-o", "Acquire::Retries=10", "download", ...PROSODY_012_PACKAGES], {
            cwd: debs,
            stdio: "inherit",
        });
    }
    if (!existsSync(join(root, "usr", "bin", "prosody"))) {
        for (const deb of readdirSync(debs).filter((file) => file.endsWith(".deb")))
            execFileSync("dpkg", ["-x", join(debs, deb), root]);
    }
    mkdirSync(bin, { recursive: true });
    for (const command of ["prosody", "prosodyctl"]) {
        // Debian's scripts name their source and module folders in two assignments at the top.
        const script = readFileSync(join(root, "usr", "bin", command), "utf8")
            .replace(/^CFG_SOURCEDIR='\/usr\/lib\/prosody';$/m, `CFG_SOURCEDIR='${root}/usr/lib/prosody';`)
            .replace(
                /^CFG_PLUGINDIR='\/usr\/lib\/prosody\/modules\/';$/m,
                `CFG_PLUGINDIR='${root}/usr/lib/prosody/modules/';`,
            );
        if (!script.includes(`CFG_SOURCEDIR='${root}`))
            throw new Error(`${command}: no CFG_SOURCEDIR to move`);
        writeFileSync(join(bin, command), script);
        chmodSync(join(bin, command), 0o755);
    }
    return bin;
}

/** The version a `prosodyctl` reports (`prosodyctl about`: "Prosody 0.12.3"). */
export function prosodyVersion(env: NodeJS.ProcessEnv = process.env): string {
    const about = execFileSync("prosodyctl", ["about"], { encoding: "utf8", env });
    return /^Prosody (\S+)/m.exec(about)?.[1] ?? "unknown";
}
