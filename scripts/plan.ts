import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkOutProgram, programChangedSince } from "../plan/base-program";
import { computeFamilyPlan } from "../plan/family-plan";
import { PlanFormat, renderPlan } from "../plan/render-plan";
import { runStackAsync } from "../plan/run-program";
import { NOTHING_DECLARED, simulateUp } from "../plan/simulate";
import { parseStackConfigText, StackConfigResult } from "./load-stack-config";

/**
 * `npm run plan -- --stack-config Pulumi.<stack>.yaml (--base <git-ref> | --base-config <file>)
 * [--format text|markdown]`: what the change from the base config to this one does for the family,
 * from the real program under mocks (no credentials, no network).
 *
 * Exit codes: 0 no change or a safe one; 3 the change destroys something (an account erased, the
 * volume or an address replaced); 2 a config is invalid (every problem listed, naming the side) or
 * the command is used wrongly. Both configs are untrusted input: they are parsed and handed to the
 * program as data, never run.
 */
const USAGE =
    "usage: npm run plan -- --stack-config Pulumi.<stack>.yaml (--base <git-ref> | --base-config <file>) " +
    "[--format text|markdown]";

function fail(message: string): never {
    console.error(message);
    process.exit(2);
}

const { values } = parseArgs({
    options: {
        "stack-config": { type: "string" },
        base: { type: "string" },
        "base-config": { type: "string" },
        format: { type: "string", default: "text" },
    },
});
const file = values["stack-config"];
if (!file || (values.base === undefined) === (values["base-config"] === undefined)) fail(USAGE);
if (values.format !== "text" && values.format !== "markdown") fail(USAGE);
const format = values.format as PlanFormat;

function readHead(path: string): string {
    try {
        return readFileSync(path, "utf8");
    } catch {
        fail(`Cannot read the stack config file ${path}.`);
    }
}

/** The same file at a git ref; undefined when it does not exist there (a new stack). */
function readAtRef(ref: string, path: string): string | undefined {
    // A ref is an argument, never an option of git's.
    if (ref.startsWith("-")) fail(`--base ${ref}: not a git ref`);
    const git = (...args: string[]) => spawnSync("git", args, { encoding: "utf8", maxBuffer: 16 << 20 });
    if (git("rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`).status !== 0)
        fail(
            `--base ${ref}: git knows no such commit ` +
                "(fetch it first, e.g. actions/checkout's fetch-depth: 0)",
        );
    const spec = `${ref}:./${path.replace(/^\.\//, "")}`;
    if (git("cat-file", "-e", spec).status !== 0) return undefined;
    const shown = git("show", spec);
    if (shown.status !== 0) fail(`git show ${spec} failed: ${shown.stderr.trim()}`);
    return shown.stdout;
}

const headText = readHead(file);
const baseLabel =
    values.base !== undefined ? `${file} at the base (${values.base})` : `${values["base-config"]}`;
const baseText = values.base !== undefined ? readAtRef(values.base, file) : readHead(values["base-config"]!);

const head = parseStackConfigText(headText, file);
const base: StackConfigResult | undefined =
    baseText === undefined ? undefined : parseStackConfigText(baseText, baseLabel);
const problems = [base, head].flatMap((side) => (side && !side.ok ? [side.message] : []));
if (problems.length > 0) fail(problems.join("\n"));
if (!head.ok || (base && !base.ok)) process.exit(2);

async function main(baseSide: StackConfigResult | undefined, headSide: StackConfigResult & { ok: true }) {
    const baseValid = baseSide?.ok ? baseSide : undefined;
    // At a git base whose code differs, the base config runs through the base's own program.
    const baseProgram =
        baseValid && values.base !== undefined && programChangedSince(values.base)
            ? checkOutProgram(values.base)
            : undefined;
    try {
        const environment: Record<string, string> = baseProgram
            ? { FAMILY_XMPP_PROGRAM: baseProgram.index }
            : {};
        const before = baseValid ? runStackAsync(baseValid.raw, environment) : NOTHING_DECLARED;
        const simulated = await simulateUp(before, headSide.raw);
        const plan = computeFamilyPlan(baseValid?.model, headSide.model, simulated);
        process.stdout.write(renderPlan(plan, format));
        process.exit(plan.destroys.length > 0 ? 3 : 0);
    } finally {
        baseProgram?.remove();
    }
}

main(base, head).catch((error: Error) => {
    console.error(`The plan could not be computed: ${error.message}`);
    process.exit(1);
});
