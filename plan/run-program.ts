import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { CONFIG_NAMESPACE } from "../model/known-values";

export interface DeclaredResource {
    readonly type: string;
    readonly name: string;
    readonly id: string;
    readonly inputs: Record<string, unknown>;
}

export interface ResourceOptionsSeen {
    readonly type: string;
    readonly name: string;
    readonly protect: boolean;
    readonly ignoreChanges: string[];
    readonly deleteBeforeReplace: boolean;
    readonly dependsOn: string[];
}

export interface StackRun {
    readonly declared: DeclaredResource[];
    readonly options: ResourceOptionsSeen[];
    readonly outputs: Record<string, { value: unknown; secret: boolean }>;
    readonly error?: { runError: boolean; message: string; stack: string };
}

/** The key Pulumi wraps secret values in, as mocks receive them. */
export const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

const MOCK_PROGRAM = join(__dirname, "mock-program.ts");
const TIMEOUT_MS = 120_000;

/** The engine's form of the config: `family-xmpp:<key>`, every value a string, structured values JSON. */
function engineEnvironment(config: Record<string, unknown>, environment: Record<string, string>) {
    const engineConfig = Object.fromEntries(
        Object.entries(config).map(([key, value]) => [
            `${CONFIG_NAMESPACE}:${key}`,
            typeof value === "string" ? value : JSON.stringify(value),
        ]),
    );
    return { ...process.env, ...environment, FAMILY_XMPP_TEST_CONFIG: JSON.stringify(engineConfig) };
}

/**
 * Runs the real program (index.ts) under Pulumi mocks in a fresh Node process, with `config` as
 * the stack's `family-xmpp:*` values, and returns what it declared.
 */
export function runStack(
    config: Record<string, unknown>,
    environment: Record<string, string> = {},
): StackRun {
    const result = spawnSync(process.execPath, ["--import", "tsx", MOCK_PROGRAM], {
        env: engineEnvironment(config, environment),
        encoding: "utf8",
        timeout: TIMEOUT_MS,
    });
    if (result.status !== 0)
        throw new Error(`the mock run failed (exit ${result.status}):\n${result.stderr}`);
    return JSON.parse(result.stdout) as StackRun;
}

/** `runStack` without blocking, so that two runs (a plan's base and head) share the machine's cores. */
export function runStackAsync(
    config: Record<string, unknown>,
    environment: Record<string, string> = {},
): Promise<StackRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", MOCK_PROGRAM], {
            env: engineEnvironment(config, environment),
            stdio: ["ignore", "pipe", "pipe"],
            timeout: TIMEOUT_MS,
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("error", reject);
        child.once("close", (status) => {
            if (status !== 0) reject(new Error(`the mock run failed (exit ${status}):\n${stderr}`));
            else resolve(JSON.parse(stdout) as StackRun);
        });
    });
}

export function resourcesOf(run: StackRun, type: string): DeclaredResource[] {
    return run.declared.filter((resource) => resource.type === type);
}

export function resourceNamed(run: StackRun, type: string, name: string): DeclaredResource {
    const found = run.declared.find((resource) => resource.type === type && resource.name === name);
    if (!found)
        throw new Error(`no ${type} named ${name}; declared: ${run.declared.map((r) => r.name).join(", ")}`);
    return found;
}

export function optionsOf(run: StackRun, type: string, name: string): ResourceOptionsSeen {
    const found = run.options.find((options) => options.type === type && options.name === name);
    if (!found) throw new Error(`no options recorded for ${type} ${name}`);
    return found;
}

/** A secret input as the mocks see it: `{ <signature>: ..., value }`. */
export function secretValue(input: unknown): string | undefined {
    if (typeof input === "object" && input !== null && SECRET_SIGNATURE in input) {
        return (input as unknown as { value: string }).value;
    }
    return undefined;
}

/** An input's plain text: secrets unwrapped, structured values as JSON. */
export function plainValue(input: unknown): string {
    const secret = secretValue(input);
    if (secret !== undefined) return typeof secret === "string" ? secret : JSON.stringify(secret);
    return typeof input === "string" ? input : JSON.stringify(input);
}
