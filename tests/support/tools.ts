import { spawnSync } from "node:child_process";
import { TestContext } from "node:test";

/** A command a test needs, and the Debian package that brings it. */
export type Tool = readonly [command: string, debianPackage: string];

export const PROSODY: Tool = ["prosodyctl", "prosody"];
export const COTURN: Tool = ["turnserver", "coturn"];

/**
 * Why a test cannot run here, or undefined when every tool it needs is installed. On a developer's
 * machine a missing tool makes the test a reported skip, naming the Debian package; in CI
 * (CI=true), where .ci/run installs everything the suite uses, it is an error instead.
 */
export function missingTools(tools: readonly Tool[], otherReason?: string): string | undefined {
    const missing = tools
        .filter(
            ([command]) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status !== 0,
        )
        .map(([command, debianPackage]) => `${command} is not installed (apt-get install ${debianPackage})`);
    const reason = [...missing, ...(otherReason ? [otherReason] : [])].join("; ");
    if (!reason) return undefined;
    if (process.env.CI === "true") throw new Error(`${reason}; .ci/run should have provided it`);
    return reason;
}

/** For one test: skips it (or fails it in CI) unless `command` is installed. */
export function hasTool(t: TestContext, command: string, debianPackage: string): boolean {
    const reason = missingTools([[command, debianPackage]]);
    if (reason) t.skip(reason);
    return reason === undefined;
}
