import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { plainValue as plain } from "../../plan/run-program";
import { ProvisioningStep } from "../../plan/provisioning-steps";
import { resourcesOf, StackRun } from "../support/stack-harness";
export { plannedRuns, ProvisioningStep, provisioningSteps } from "../../plan/provisioning-steps";
import { sleep } from "./shell";

const COMMAND = "command:remote:Command";

export interface SshConnection {
    readonly host: string;
    readonly user: string;
    readonly privateKey: string;
}

/** The SSH connection the program gives its commands (host, user and the deploy key). */
export function connectionOf(run: StackRun): SshConnection {
    const [first] = resourcesOf(run, COMMAND);
    const connection = JSON.parse(plain(first.inputs.connection)) as SshConnection;
    return { host: connection.host, user: connection.user, privateKey: connection.privateKey };
}

/** Real `ssh` from the host, with the program's deploy key, as @pulumi/command connects. */
export class SshTarget {
    private readonly keyFile: string;

    constructor(
        private readonly connection: SshConnection,
        workDir: string,
    ) {
        this.keyFile = join(workDir, "deploy-key");
        writeFileSync(this.keyFile, connection.privateKey, { mode: 0o600 });
    }

    run(script: string, stdin = ""): { status: number | null; stdout: string; stderr: string } {
        const result = spawnSync(
            "ssh",
            [
                "-i",
                this.keyFile,
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=5",
                `${this.connection.user}@${this.connection.host}`,
                script,
            ],
            { input: stdin, encoding: "utf8", timeout: 600_000 },
        );
        return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    }

    /** Dials until sshd answers, as the command provider retries (dialErrorLimit). */
    async waitUntilReachable(timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const result = this.run("true");
            if (result.status === 0) return;
            if (Date.now() > deadline)
                throw new Error(`ssh to ${this.connection.host} kept failing: ${result.stderr}`);
            await sleep(1000);
        }
    }

    /** Runs one step's script with its stdin; a failing step fails the test with its output. */
    runStep(step: ProvisioningStep, script: string): string {
        const result = this.run(script, step.stdin ?? "");
        if (result.status !== 0) {
            throw new Error(
                `provisioning step ${step.name} failed (exit ${result.status}):\n` +
                    `${result.stdout}${result.stderr}`,
            );
        }
        return result.stdout;
    }
}
