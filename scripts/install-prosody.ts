import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * How `npm start` (as root) installs what the try-out runs: the Prosody the VPS runs, 13.0.1.
 * Debian 13 has it in main; Debian 12 gets the same version from bookworm-backports, exactly as
 * `.ci/run` installs it for the tests.
 */
export const BACKPORTS_SOURCE = "deb http://deb.debian.org/debian bookworm-backports main";
const BACKPORTS_LIST = "/etc/apt/sources.list.d/bookworm-backports.list";
/** Debian's mirror over the internet: a dropped connection is tried again, with growing pauses. */
export const APT_RETRIES = [
    "-o",
    "Acquire::Retries=10",
    "-o",
    "Acquire::Retries::Delay::Maximum=30",
    "-o",
    "Acquire::http::Timeout=30",
];

export interface InstallPlan {
    /** A line for /etc/apt/sources.list.d/, when the release lacks one apt must have. */
    readonly addSource?: string;
    /** apt-get's argument lists, run in order. */
    readonly aptGet: readonly (readonly string[])[];
}

/** What to install on the machine whose /etc/os-release reads `osRelease`. */
export function prosodyInstallPlan(osRelease: string, knownSources: string): InstallPlan {
    const codename = /^VERSION_CODENAME=["']?([a-z]+)/m.exec(osRelease)?.[1];
    const backports = codename === "bookworm";
    return {
        ...(backports && !knownSources.includes("bookworm-backports") ? { addSource: BACKPORTS_SOURCE } : {}),
        aptGet: [
            [...APT_RETRIES, "update"],
            [
                ...APT_RETRIES,
                "install",
                "-y",
                ...(backports ? ["-t", "bookworm-backports"] : []),
                "prosody",
                "prosody-modules",
            ],
            // From the release itself, even on Debian 12: only Prosody needs the newer version.
            [...APT_RETRIES, "install", "-y", "coturn", "openssl"],
        ],
    };
}

/** Every apt source line this machine has (one-line or deb822), comments left out, as one text. */
function aptSources(): string {
    const dir = "/etc/apt/sources.list.d";
    const files = [
        "/etc/apt/sources.list",
        ...(existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : []),
    ];
    return files
        .filter((file) => existsSync(file))
        .flatMap((file) => readFileSync(file, "utf8").split("\n"))
        .filter((line) => !line.trimStart().startsWith("#"))
        .join("\n");
}

export function installProsody(): void {
    const plan = prosodyInstallPlan(readFileSync("/etc/os-release", "utf8"), aptSources());
    if (plan.addSource) {
        console.log(`Adding Debian's backports (${BACKPORTS_LIST}): ${plan.addSource}`);
        writeFileSync(BACKPORTS_LIST, `${plan.addSource}\n`);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of plan.aptGet) {
        console.log(`apt-get ${args.filter((arg, i) => arg !== "-o" && args[i - 1] !== "-o").join(" ")}`);
        const result = spawnSync("apt-get", args, { stdio: "inherit", env });
        if (result.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (exit ${result.status})`);
    }
}
