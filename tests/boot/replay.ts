import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { optionsOf, resourcesOf, secretValue, StackRun } from "../support/stack-harness";
import { sleep } from "./shell";

const COMMAND = "command:remote:Command";

/** One `command.remote.Command` of the program, as the Pulumi mocks captured it. */
export interface ProvisioningStep {
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly create: string;
    readonly update?: string;
    readonly delete?: string;
    readonly stdin?: string;
    readonly dependsOn: readonly string[];
}

export interface SshConnection {
    readonly host: string;
    readonly user: string;
    readonly privateKey: string;
}

/** The program's provisioning steps in the order Pulumi runs them (dependencies first). */
export function provisioningSteps(run: StackRun): ProvisioningStep[] {
    const steps = resourcesOf(run, COMMAND).map((resource) => ({
        name: resource.name,
        inputs: resource.inputs,
        create: String(resource.inputs.create),
        update: resource.inputs.update === undefined ? undefined : String(resource.inputs.update),
        delete: resource.inputs.delete === undefined ? undefined : String(resource.inputs.delete),
        stdin: resource.inputs.stdin === undefined ? undefined : plain(resource.inputs.stdin),
        dependsOn: optionsOf(run, COMMAND, resource.name).dependsOn,
    }));
    const ordered: ProvisioningStep[] = [];
    const visit = (step: ProvisioningStep) => {
        if (ordered.includes(step)) return;
        for (const dependency of step.dependsOn) {
            const before = steps.find((candidate) => candidate.name === dependency);
            if (before) visit(before);
        }
        ordered.push(step);
    };
    steps.forEach(visit);
    return ordered;
}

/** The SSH connection the program gives its commands (host, user and the deploy key). */
export function connectionOf(run: StackRun): SshConnection {
    const [first] = resourcesOf(run, COMMAND);
    const connection = JSON.parse(plain(first.inputs.connection)) as SshConnection;
    return { host: connection.host, user: connection.user, privateKey: connection.privateKey };
}

/**
 * What `pulumi up` would run when the program goes from `before` to `after`: new steps are
 * created, steps whose triggers changed are replaced (created anew, then the old one deleted),
 * steps with other changed inputs are updated (their `update`, or else `create`, runs again),
 * and steps that are gone are deleted.
 */
export function plannedRuns(
    before: StackRun,
    after: StackRun,
): { step: ProvisioningStep; script: string; why: string }[] {
    const old = new Map(provisioningSteps(before).map((step) => [step.name, step]));
    const runs: { step: ProvisioningStep; script: string; why: string }[] = [];
    const deletes: { step: ProvisioningStep; script: string; why: string }[] = [];
    for (const step of provisioningSteps(after)) {
        const previous = old.get(step.name);
        if (!previous) {
            runs.push({ step, script: step.create, why: "create" });
        } else if (JSON.stringify(previous.inputs.triggers) !== JSON.stringify(step.inputs.triggers)) {
            runs.push({ step, script: step.create, why: "replace" });
            if (previous.delete)
                deletes.push({ step: previous, script: previous.delete, why: "replace (delete old)" });
        } else if (JSON.stringify(previous.inputs) !== JSON.stringify(step.inputs)) {
            runs.push({ step, script: step.update ?? step.create, why: "update" });
        }
        old.delete(step.name);
    }
    for (const gone of [...old.values()].reverse()) {
        if (gone.delete) deletes.push({ step: gone, script: gone.delete, why: "delete" });
    }
    return [...runs, ...deletes];
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

/** Secrets reach the mocks wrapped; the replay needs their plain value. */
function plain(input: unknown): string {
    const secret = secretValue(input);
    if (secret !== undefined) return typeof secret === "string" ? secret : JSON.stringify(secret);
    return typeof input === "string" ? input : JSON.stringify(input);
}
