/**
 * "Boot to chat": how long a fresh Debian 13 takes from its first boot with the rendered user data
 * to a member's first message, measured by the boot test (tests/boot/boot.test.ts) in a system
 * container. Runs that test (as root), reads the phase timings and package counts it leaves,
 * prints them, and with `--write` appends them to BENCHMARKS.md.
 * Run: node --import tsx bench/boot-to-chat.ts [--write]
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { basename, join } from "node:path";
import { imagePath, LAST_RUN_DIR } from "../tests/boot/debian-image";

const timingsFile = join(LAST_RUN_DIR, "timings.json");
const started = Date.now();
const loadBefore = loadavg()[0];
const result = spawnSync(
    process.execPath,
    ["--import", "tsx", "--test", join(__dirname, "..", "tests", "boot", "boot.test.ts")],
    {
        stdio: "inherit",
        env: { ...process.env, CI: "true" },
    },
);
if (result.status !== 0 || statSync(timingsFile).mtimeMs < started) {
    console.error("the boot test failed or left no timings; nothing to report");
    process.exit(1);
}
const timings = JSON.parse(readFileSync(timingsFile, "utf8")) as Record<string, number>;
const packages = JSON.parse(readFileSync(join(LAST_RUN_DIR, "packages.json"), "utf8")) as Record<
    string,
    { installed: number; fetched: number }
>;
const seconds = (ms: number | undefined) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`);
const bootToChat =
    (timings["boot to cloud-init done"] ?? 0) +
    (timings["provisioning over SSH"] ?? 0) +
    (timings["first login"] ?? 0);
const lines = [
    `## Boot to chat (bench/boot-to-chat.ts), ${new Date().toISOString().slice(0, 10)}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}; ${basename(imagePath())} in systemd-nspawn, ` +
        "packages from Debian's mirror over NAT, or from the boot test's package cache.",
    "Family: 4 members, 2 groups (the boot test's). One run. " +
        `Load average (1 min): ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after ` +
        "(other work on the machine weighs on these times).",
    "",
    "| phase | time |",
    "| --- | --- |",
    ...Object.entries(timings).map(([phase, ms]) => `| ${phase} | ${seconds(ms)} |`),
    "| **boot to chat** (boot to cloud-init done + provisioning + first login) | " +
        `**${seconds(bootToChat)}** |`,
    ...Object.entries(packages).map(
        ([boot, count]) =>
            `| ${boot}: packages apt installed, of them fetched from the mirror | ` +
            `${count.installed}, ${count.fetched} |`,
    ),
    "",
];
console.log(lines.join("\n"));
if (process.argv.includes("--write"))
    appendFileSync(join(__dirname, "..", "BENCHMARKS.md"), `${lines.join("\n")}\n`);
