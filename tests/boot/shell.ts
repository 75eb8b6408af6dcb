import { execFileSync, spawnSync } from "node:child_process";

/** Runs a command, returning its stdout; a failure throws with the command's stderr. */
export function run(command: string, args: readonly string[], input?: string): string {
    try {
        return execFileSync(command, args, {
            encoding: "utf8",
            input,
            stdio: ["pipe", "pipe", "pipe"],
            maxBuffer: 64 * 1024 * 1024,
        });
    } catch (error) {
        const failed = error as { status: number | null; stderr?: string; stdout?: string };
        throw new Error(
            `${command} ${args.join(" ")} failed (exit ${failed.status}): ` +
                `${failed.stderr ?? ""}${failed.stdout ?? ""}`,
        );
    }
}

/** Runs a command and ignores its outcome: for teardown of what may already be gone. */
export function runQuietly(command: string, args: readonly string[]): void {
    spawnSync(command, args, { stdio: "ignore" });
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
