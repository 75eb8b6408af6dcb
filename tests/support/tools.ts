import { spawnSync } from "node:child_process";
import { TestContext } from "node:test";

/**
 * Whether a command the test needs is installed. Missing on a developer's machine: the test is
 * reported as skipped, naming the Debian package. Missing in CI (CI=true): the test fails, since
 * .ci/run installs everything the suite uses.
 */
export function hasTool(t: TestContext, command: string, debianPackage: string): boolean {
    if (spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0) return true;
    const reason = `${command} is not installed (apt-get install ${debianPackage})`;
    if (process.env.CI === "true") throw new Error(`${reason}; .ci/run should have installed it`);
    t.skip(reason);
    return false;
}
