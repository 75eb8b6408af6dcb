/**
 * `npm run plan`: pairs of stack configs, the family plan each gives (golden copies in
 * tests/golden/plan/), its exit code through the real CLI, and every "replaced / not replaced"
 * claim held against what the mocked program actually declares.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dump } from "js-yaml";
import { rawConfigFromStackFile } from "../model/stack-config";
import { computeFamilyPlan, FamilyPlan, INFRASTRUCTURE_RESOURCES, PART_NAMES } from "../plan/family-plan";
import { plannedRuns } from "../plan/provisioning-steps";
import { renderPlanMarkdown, renderPlanText } from "../plan/render-plan";
import { runStack, runStackAsync, StackRun } from "../plan/run-program";
import { NOTHING_DECLARED, simulateUp, SimulatedUp } from "../plan/simulate";
import { familyModel } from "./support/families";

const ROOT = join(__dirname, "..");
const GOLDEN = join(__dirname, "golden", "plan");

/** The example family of Pulumi.dev.yaml: Pappa, Mamma, Åsa and Erik in Family; Sven in Relatives. */
const BASE = rawConfigFromStackFile(readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8"));
const members = BASE.members as { username: string; name: string; admin?: boolean }[];
const groups = BASE.groups as { name: string; members: string[] }[];
const withoutSven = {
    members: members.filter((member) => member.username !== "sven"),
    groups: [groups[0], { name: "Relatives", members: ["pappa", "mamma"] }],
};

/** Each change a family makes, as the config after it. */
const SCENARIOS: Record<string, Record<string, unknown>> = {
    "add-member": {
        ...BASE,
        members: [...members, { username: "ingrid", name: "Ingrid" }],
        groups: [{ name: "Family", members: [...groups[0].members, "ingrid"] }, groups[1]],
    },
    "remove-member": { ...BASE, ...withoutSven },
    "erase-member": { ...BASE, ...withoutSven, removedMembers: [{ username: "sven", erase: true }] },
    rename: {
        ...BASE,
        members: members.map((m) => (m.username === "åsa" ? { ...m, name: "Farmor Åsa" } : m)),
    },
    "admin-change": {
        ...BASE,
        members: members.map((m) => (m.username === "erik" ? { ...m, admin: true } : m)),
    },
    "move-between-groups": {
        ...BASE,
        groups: [
            { name: "Family", members: ["pappa", "mamma", "åsa"] },
            { name: "Relatives", members: ["pappa", "mamma", "sven", "erik"] },
        ],
    },
    "federation-off": { ...BASE, federation: false },
    "calls-off": { ...BASE, calls: false },
    "new-mail-provider": {
        ...BASE,
        mail: {
            provider: "custom",
            mx: [{ host: "mx.mailbox.example", priority: 10 }],
            spfIncludes: ["spf.mailbox.example"],
            dkim: [{ selector: "mb1", target: "mb1.dkim.mailbox.example" }],
        },
    },
    "server-type": { ...BASE, serverType: "cx33" },
    location: { ...BASE, location: "hel1" },
    identical: { ...BASE },
};

/**
 * hcloud's schema, restated here on purpose (plan/replacements.ts is the program's copy): the inputs
 * whose change replaces the server, the volume and the primary IPs (ForceNew / RequiresReplace).
 */
const REPLACING_INPUTS: Record<string, string[]> = {
    "family-server": ["image", "location", "sshKeys"],
    "family-data": ["location"],
    "family-ipv4": ["type", "location"],
    "family-ipv6": ["type", "location"],
};

interface Outcome {
    readonly simulated: SimulatedUp;
    readonly plan: FamilyPlan;
}

let baseRun: StackRun;
const outcomes = new Map<string, Outcome>();
let newStack: FamilyPlan;

before(async () => {
    baseRun = await runStackAsync(BASE);
    // Two at a time: the machine has two cores.
    const names = Object.keys(SCENARIOS);
    for (let i = 0; i < names.length; i += 2) {
        await Promise.all(
            names.slice(i, i + 2).map(async (name) => {
                const simulated = await simulateUp(baseRun, SCENARIOS[name]);
                const plan = computeFamilyPlan(familyModel(BASE), familyModel(SCENARIOS[name]), simulated);
                outcomes.set(name, { simulated, plan });
            }),
        );
    }
    const fresh = await simulateUp(NOTHING_DECLARED, BASE);
    newStack = computeFamilyPlan(undefined, familyModel(BASE), fresh);
});

function outcome(name: string): Outcome {
    const found = outcomes.get(name);
    assert.ok(found, `no outcome for ${name}`);
    return found;
}

function matchesGolden(file: string, text: string): void {
    const path = join(GOLDEN, file);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, text);
    assert.equal(text, readFileSync(path, "utf8"), `${file} differs from the reviewed golden copy`);
}

describe("the family plan of each change", () => {
    for (const name of Object.keys(SCENARIOS)) {
        it(`${name}: matches its reviewed golden plan`, () => {
            matchesGolden(`${name}.md`, renderPlanMarkdown(outcome(name).plan));
        });
    }

    it("prints the same plan as plain text for a terminal", () => {
        matchesGolden("add-member.txt", renderPlanText(outcome("add-member").plan));
    });

    it("says 'no changes' for an identical config, and nothing else but that nothing is backed up", () => {
        assert.equal(
            renderPlanText(outcome("identical").plan),
            "Family plan for johansson.example\n\n" +
                "Nothing is backed up: family-xmpp:backup is false. A lost volume loses the family's " +
                'accounts, history and files (README, "Backups and restoring").\n\nNo changes.\n',
        );
    });

    it("treats a stack config missing at the base as a new stack: everything is created", () => {
        assert.equal(newStack.isNewStack, true);
        assert.deepEqual(
            newStack.accounts.map((change) => `${change.kind} ${change.member.username}`),
            members.map((member) => `created ${member.username}`),
        );
        assert.ok(newStack.infrastructure.every((fate) => fate.fate === "created"));
        assert.ok(newStack.dnsRecords.length > 20 && newStack.dnsRecords.every((r) => r.kind === "added"));
        assert.deepEqual(newStack.destroys, []);
    });

    it("tells a disabled account from an erased one, and only erasing destroys", () => {
        assert.deepEqual(
            outcome("remove-member").plan.accounts.map((a) => `${a.kind} ${a.member.jid}`),
            ["disabled sven@johansson.example"],
        );
        assert.deepEqual(outcome("remove-member").plan.destroys, []);
        assert.deepEqual(outcome("erase-member").plan.destroys, [
            "the account sven@johansson.example is erased with its history",
        ]);
    });

    it("keeps the server through a server type change but replaces everything tied to a location", () => {
        const fates = (name: string) => outcome(name).plan.infrastructure.map((f) => `${f.part} ${f.fate}`);
        assert.deepEqual(fates("server-type"), [
            "server updated",
            "volume unchanged",
            "ipv4 unchanged",
            "ipv6 unchanged",
        ]);
        assert.deepEqual(fates("location"), [
            "server replaced",
            "volume replaced",
            "ipv4 replaced",
            "ipv6 replaced",
        ]);
    });
});

describe("the plan's claims against the mocked program's resource diff", () => {
    const inputsOf = (run: StackRun, name: string) => run.declared.find((r) => r.name === name)?.inputs;
    const changedInputs = (before: StackRun, after: StackRun, name: string) => {
        const [old, now] = [inputsOf(before, name) ?? {}, inputsOf(after, name) ?? {}];
        return Object.keys({ ...old, ...now }).filter(
            (key) => JSON.stringify(old[key]) !== JSON.stringify(now[key]),
        );
    };

    for (const name of Object.keys(SCENARIOS)) {
        it(`${name}: says "replaced" just where a replacing input changed, else "not replaced"`, () => {
            const { simulated, plan } = outcome(name);
            const text = renderPlanText(plan);
            for (const fate of plan.infrastructure) {
                const resource = INFRASTRUCTURE_RESOURCES[fate.part];
                const changed = changedInputs(baseRun, simulated.after, resource);
                const replacing = changed.filter((input) => REPLACING_INPUTS[resource].includes(input));
                assert.equal(
                    fate.fate === "replaced",
                    replacing.length > 0,
                    `${resource}: ${changed.join(", ")}`,
                );
                assert.deepEqual(
                    fate.replacedBecause.map((change) => change.input),
                    replacing,
                    `${resource}: the reasons given`,
                );
                const notReplaced = `The ${PART_NAMES[fate.part]} is not replaced.`;
                if (!text.includes("No changes."))
                    assert.equal(text.includes(notReplaced), replacing.length === 0, notReplaced);
            }
        });

        it(`${name}: lists exactly the provisioning steps a pulumi up would run`, () => {
            const { simulated, plan } = outcome(name);
            assert.deepEqual(
                plan.steps
                    .filter((step) => step.kind !== "removed")
                    .map((step) => `${step.kind} ${step.step}`),
                plannedRuns(simulated.before, simulated.after).map((run) => `${run.why} ${run.step.name}`),
            );
        });
    }

    it("gives a replaced server a new id: the steps it triggers run again, the volume is re-attached", () => {
        const { simulated } = outcome("location");
        const id = (run: StackRun) => run.declared.find((r) => r.name === "family-server")?.id;
        assert.notEqual(id(simulated.after), id(baseRun));
        const firstBoot = inputsOf(simulated.after, "family-first-boot");
        assert.deepEqual(firstBoot?.triggers, [id(simulated.after)]);
        const attachment = simulated.changes.find((c) => c.name === "family-data-attachment");
        assert.equal(attachment?.kind, "replace");
    });

    it("erasing a former member creates the erase step, and removing one deletes the account step", () => {
        const step = (name: string, kind: string) =>
            outcome(name).simulated.changes.filter(
                (c) => c.type === "command:remote:Command" && c.kind === kind,
            );
        assert.deepEqual(
            step("erase-member", "create").map((c) => c.name),
            ["family-erase-sven"],
        );
        assert.deepEqual(
            step("remove-member", "delete").map((c) => c.name),
            ["family-account-sven", "family-welcome-sven"],
        );
        assert.deepEqual(step("remove-member", "create"), []);
    });
});

describe("the mock runner", () => {
    it("refuses an invoke it has no answer for, rather than hand the program its own arguments", () => {
        const dir = mkdtempSync(join(tmpdir(), "invoke-"));
        try {
            symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
            writeFileSync(
                join(dir, "index.ts"),
                'import * as pulumi from "@pulumi/pulumi";\n' +
                    "export const image = pulumi.output(" +
                    'pulumi.runtime.invoke("hcloud:index/getImage:getImage", { name: "debian-13" }));\n',
            );
            assert.throws(
                () => runStack({}, { FAMILY_XMPP_PROGRAM: join(dir, "index.ts") }),
                /the mocks do not answer the invoke hcloud:index\/getImage:getImage/,
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("npm run plan, the command", () => {
    let dir: string;
    const plan = (...args: string[]) =>
        spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "plan.ts"), ...args], {
            cwd: ROOT,
            encoding: "utf8",
        });
    const configFile = (name: string, config: Record<string, unknown>) => {
        const file = join(dir, `Pulumi.${name}.yaml`);
        writeFileSync(
            file,
            dump({
                config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`family-xmpp:${k}`, v])),
            }),
        );
        return file;
    };

    before(() => {
        dir = mkdtempSync(join(tmpdir(), "plan-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("exits 0 for a safe change and prints the golden plan", () => {
        const result = plan(
            "--stack-config",
            configFile("add", SCENARIOS["add-member"]),
            "--base-config",
            configFile("base", BASE),
            "--format",
            "markdown",
        );
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stdout, readFileSync(join(GOLDEN, "add-member.md"), "utf8"));
    });

    it("exits 3 when the change erases an account", () => {
        const result = plan(
            "--stack-config",
            configFile("erase", SCENARIOS["erase-member"]),
            "--base-config",
            configFile("base", BASE),
        );
        assert.equal(result.status, 3, result.stderr);
        assert.match(result.stdout, /WARNING: this change destroys something/);
    });

    it("reads the base from git: the committed Pulumi.dev.yaml against itself has no changes", () => {
        const result = plan("--stack-config", "Pulumi.dev.yaml", "--base", "HEAD");
        assert.equal(result.status, 0, result.stderr);
        assert.match(
            result.stdout,
            /^Family plan for johansson\.example\n\nNothing is backed up: [^\n]+\n\nNo changes\.\n$/,
        );
    });

    it("runs the base config through the base's own program: a new server image replaces the server", () => {
        // A copy of this checkout as a repository of its own, whose last commit changes the image.
        const repo = join(dir, "repo");
        const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
            cwd: ROOT,
            encoding: "utf8",
        })
            .stdout.split("\0")
            .filter((file) => file !== "" && existsSync(join(ROOT, file)));
        for (const file of files) cpSync(join(ROOT, file), join(repo, file));
        symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"));
        const git = (...args: string[]) => {
            const result = spawnSync(
                "git",
                ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args],
                {
                    cwd: repo,
                    encoding: "utf8",
                },
            );
            assert.equal(result.status, 0, result.stderr);
        };
        git("init", "-q");
        git("add", "-A");
        git("commit", "-q", "-m", "base");
        // Whatever image the program has now, the next commit moves to another one.
        const image = /image: "(debian-\d+)"/.exec(
            readFileSync(join(repo, "model", "validate.ts"), "utf8"),
        )?.[1];
        assert.ok(image, "model/validate.ts names the server image");
        for (const file of ["model/family.ts", "model/validate.ts"]) {
            const path = join(repo, file);
            writeFileSync(path, readFileSync(path, "utf8").replaceAll(`"${image}"`, '"debian-next"'));
        }
        git("commit", "-q", "-a", "-m", "a new Debian");

        const result = spawnSync(
            process.execPath,
            [
                "--import",
                "tsx",
                join(repo, "scripts", "plan.ts"),
                "--stack-config",
                "Pulumi.dev.yaml",
                "--base",
                "HEAD~1",
            ],
            { cwd: repo, encoding: "utf8" },
        );
        assert.equal(result.status, 0, result.stderr);
        assert.ok(
            result.stdout.includes(
                `The server is replaced because its image changes (${image} → debian-next)`,
            ),
            result.stdout,
        );
        assert.match(result.stdout, /The volume is not replaced\./);
        assert.match(result.stdout, /family-first-boot \(wait for the server's first boot\): runs again/);
    });

    it("exits 2 with every problem listed, as npm run render does, naming the side that is wrong", () => {
        const bad = configFile("bad", {
            ...BASE,
            serverType: "cx11",
            members: [...members, { username: "Bad Name", name: "X" }],
        });
        const result = plan("--stack-config", bad, "--base-config", configFile("base", BASE));
        assert.equal(result.status, 2);
        const render = spawnSync(
            process.execPath,
            [
                "--import",
                "tsx",
                join(ROOT, "scripts", "render.ts"),
                "--stack-config",
                bad,
                "--out",
                join(dir, "out"),
            ],
            { cwd: ROOT, encoding: "utf8" },
        );
        assert.equal(render.status, 2);
        assert.equal(result.stderr, render.stderr);
        assert.match(result.stderr, /family-xmpp:serverType/);
        assert.match(result.stderr, /family-xmpp:members\[5\]\.username/);

        const badBase = plan("--stack-config", configFile("base", BASE), "--base-config", bad);
        assert.equal(badBase.status, 2);
        assert.ok(badBase.stderr.startsWith(`${bad}: `), badBase.stderr);
        const badRef = plan("--stack-config", "Pulumi.dev.yaml", "--base", "no-such-ref-anywhere");
        assert.equal(badRef.status, 2);
        assert.match(badRef.stderr, /no-such-ref-anywhere: git knows no such commit/);
    });
});
