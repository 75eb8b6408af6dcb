/** The two commands a person runs without a cloud account: `npm run render` and `npm start`. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
    chmodSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    rmSync,
    statSync,
    writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { dump } from "js-yaml";
import { APT_RETRIES, BACKPORTS_SOURCE, InstallPlan, prosodyInstallPlan } from "../scripts/install-prosody";
import { chromiumInstalled } from "../scripts/chromium";
import { localHost, portOpen } from "../scripts/local-server";
import { missingTools, PROSODY } from "./support/tools";
import { hasTool } from "./support/tools";
import { decidedAboutBackups } from "./support/families";

const ROOT = join(__dirname, "..");

function tsxRun(script: string, args: string[]) {
    return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", script), ...args], {
        cwd: ROOT,
        encoding: "utf8",
    });
}

function stackFile(config: Record<string, unknown>): string {
    const file = join(mkdtempSync(join(tmpdir(), "stack-")), "Pulumi.test.yaml");
    const namespaced = Object.fromEntries(
        Object.entries(decidedAboutBackups(config)).map(([key, value]) => [`family-xmpp:${key}`, value]),
    );
    writeFileSync(file, dump({ config: { "hcloud:token": { secure: "v1:abc" }, ...namespaced } }));
    return file;
}

/** A family no test has seen before: a random domain and random members in random scripts. */
function unseenFamily(): Record<string, unknown> {
    // One alphabet per username: a username never mixes scripts.
    const alphabets = [
        ["a", "e", "i", "o", "u", "ø", "é", "ü", "n", "r", "s", "t", "k"],
        ["а", "е", "и", "о", "у", "ж", "н", "р", "с", "т", "к"],
    ];
    const pick = (letters: string[]) => letters[Math.floor(Math.random() * letters.length)];
    const usernames = new Set<string>();
    while (usernames.size < 6) {
        const letters = alphabets[Math.floor(Math.random() * alphabets.length)];
        usernames.add(`${pick(letters)}${pick(letters)}${pick(letters)}${Math.floor(Math.random() * 100)}`);
    }
    const members = [...usernames].map((username, index) => ({
        username,
        name: `Member ${username.toUpperCase()}`,
        admin: index === 0,
    }));
    const half = Math.ceil(members.length / 2);
    return {
        domain: `family-${Math.random().toString(36).slice(2, 8)}.example`,
        members,
        groups: [
            { name: "Household", members: members.slice(0, half).map((m) => m.username) },
            { name: "Grandparents & kids", members: members.slice(half - 1).map((m) => m.username) },
        ],
        location: "hel1",
        serverType: "cax11",
    };
}

describe("npm run render", () => {
    it("renders a family no test has seen into user data, a zone file and the server's files", (t) => {
        const config = unseenFamily();
        const out = mkdtempSync(join(tmpdir(), "render-"));
        const result = tsxRun("render.ts", ["--stack-config", stackFile(config), "--out", out]);
        assert.equal(result.status, 0, result.stderr);
        const domain = String(config.domain);
        assert.match(
            readFileSync(join(out, "dns.zone"), "utf8"),
            new RegExp(`^_xmpp-client\\._tcp\\.${domain.replace(/\./g, "\\.")}\\.\\t`, "m"),
        );
        assert.match(
            readFileSync(join(out, "rootfs/etc/prosody/prosody.cfg.lua"), "utf8"),
            new RegExp(`^VirtualHost "${domain}"$`, "m"),
        );
        const groups = readFileSync(join(out, "rootfs/etc/prosody/family-groups.txt"), "utf8");
        for (const member of config.members as { username: string }[])
            assert.ok(groups.includes(`${member.username}@${domain}=`));
        assert.ok(existsSync(join(out, "rootfs/usr/local/sbin/family-xmpp-first-boot")));
        if (!hasTool(t, "cloud-init", "cloud-init")) return;
        const schema = spawnSync("cloud-init", ["schema", "-c", join(out, "cloud-init.yaml")], {
            encoding: "utf8",
        });
        assert.equal(schema.status, 0, schema.stdout + schema.stderr);
    });

    it("writes the same bytes for the same config", () => {
        const file = stackFile(unseenFamily());
        const [first, second] = [
            mkdtempSync(join(tmpdir(), "render-")),
            mkdtempSync(join(tmpdir(), "render-")),
        ];
        for (const out of [first, second])
            assert.equal(tsxRun("render.ts", ["--stack-config", file, "--out", out]).status, 0);
        for (const name of ["cloud-init.yaml", "dns.zone", "rootfs/etc/prosody/prosody.cfg.lua"]) {
            assert.equal(
                readFileSync(join(first, name), "utf8"),
                readFileSync(join(second, name), "utf8"),
                name,
            );
        }
    });

    it("lists every problem of a bad config on stderr and exits with 2, without a stack trace", () => {
        const file = stackFile({
            domain: "Bad Domain",
            members: [
                { username: "Anna", name: "Anna" },
                { username: "anna", name: "Anna 2" },
            ],
        });
        const result = tsxRun("render.ts", [
            "--stack-config",
            file,
            "--out",
            mkdtempSync(join(tmpdir(), "render-")),
        ]);
        assert.equal(result.status, 2);
        assert.match(result.stderr, /The family-xmpp config has 3 problems:/);
        assert.match(
            result.stderr,
            /- family-xmpp:domain: "Bad Domain" may only contain letters a-z, digits, hyphens and dots\n/,
        );
        assert.match(result.stderr, /- family-xmpp:members\[0\]\.username: "Anna" has uppercase letters/);
        assert.match(
            result.stderr,
            /- family-xmpp:members\[1\]\.username: "anna" is the same account as members\[0\] \("Anna"\)/,
        );
        assert.doesNotMatch(result.stderr, /^\s+at /m);
    });

    it(
        "answers a hostile config (a 100,000-character name, a 400-digit retention, 5000 members, " +
            "a hidden __proto__) with a short list of problems and exit 2",
        () => {
            const members = Array.from({ length: 5000 }, (_, index) => ({
                username: `m${index}`,
                name: `Member ${index}`,
            }));
            const render = (config: Record<string, unknown>) =>
                tsxRun("render.ts", [
                    "--stack-config",
                    stackFile(config),
                    "--out",
                    mkdtempSync(join(tmpdir(), "render-")),
                ]);
            const huge = render({
                domain: "johansson.me",
                members: [{ username: "anna", name: "A".repeat(100_000) }],
                archiveRetention: `${"9".repeat(400)}y`,
                ["__proto__"]: { members: [{ username: "eve", name: "Eve", admin: true }] },
            });
            assert.equal(huge.status, 2, huge.stderr);
            assert.ok(huge.stderr.length < 1500, `${huge.stderr.length} characters on stderr`);
            for (const key of ["members[0].name", "archiveRetention", "__proto__"])
                assert.ok(huge.stderr.includes(`family-xmpp:${key}:`), key);
            const many = render({ domain: "johansson.me", members });
            assert.equal(many.status, 2, many.stderr);
            assert.match(many.stderr, /- family-xmpp:members: has 5000 entries; at most 1000 are allowed/);
            for (const run of [huge, many]) assert.doesNotMatch(run.stderr, /^\s+at /m);
        },
    );

    it("says so when the stack config file cannot be read", () => {
        const result = tsxRun("render.ts", [
            "--stack-config",
            "/nonexistent/Pulumi.x.yaml",
            "--out",
            tmpdir(),
        ]);
        assert.equal(result.status, 2);
        assert.equal(result.stderr.trim(), "Cannot read the stack config file /nonexistent/Pulumi.x.yaml.");
    });
});

describe("npm start's install of Prosody (as root, when it is missing)", () => {
    const BOOKWORM =
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';
    const TRIXIE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n';
    const BOOKWORM_SOURCES = "deb http://deb.debian.org/debian bookworm main\n";
    const installs = (plan: InstallPlan) =>
        plan.aptGet.filter((args) => args.includes("install")).map((args) => args.slice(APT_RETRIES.length));

    it("takes Prosody 13 from bookworm-backports on Debian 12, as CI does, the rest from bookworm", () => {
        const plan = prosodyInstallPlan(BOOKWORM, BOOKWORM_SOURCES);
        assert.equal(plan.addSource, "deb http://deb.debian.org/debian bookworm-backports main");
        assert.deepEqual(installs(plan), [
            ["install", "-y", "-t", "bookworm-backports", "prosody", "prosody-modules"],
            ["install", "-y", "coturn", "openssl"],
        ]);
        assert.match(
            readFileSync(join(ROOT, ".ci", "run"), "utf8"),
            /-t bookworm-backports prosody prosody-modules/,
        );
    });

    it("adds no second backports source where the machine has one", () => {
        const plan = prosodyInstallPlan(BOOKWORM, `${BOOKWORM_SOURCES}${BACKPORTS_SOURCE}\n`);
        assert.equal(plan.addSource, undefined);
        assert.deepEqual(installs(plan)[0], [
            "install",
            "-y",
            "-t",
            "bookworm-backports",
            "prosody",
            "prosody-modules",
        ]);
    });

    it("installs Debian 13's own Prosody 13 on Debian 13", () => {
        const plan = prosodyInstallPlan(TRIXIE, "");
        assert.equal(plan.addSource, undefined);
        assert.deepEqual(installs(plan), [
            ["install", "-y", "prosody", "prosody-modules"],
            ["install", "-y", "coturn", "openssl"],
        ]);
    });

    it("refreshes apt's lists first, and makes every apt run retry Debian's mirror", () => {
        const plan = prosodyInstallPlan(TRIXIE, "");
        assert.deepEqual(plan.aptGet[0].slice(APT_RETRIES.length), ["update"]);
        for (const args of plan.aptGet) assert.deepEqual(args.slice(0, APT_RETRIES.length), APT_RETRIES);
        assert.ok(APT_RETRIES.includes("Acquire::Retries=10"));
    });
});

describe("npm start", { skip: missingTools([PROSODY]) }, () => {
    it(
        "runs the family server from Pulumi.dev.yaml, writes the passwords, the welcome links and " +
            "their sheets, prints the rooms and how to reach the server, and stops Prosody cleanly",
        async () => {
            const state = mkdtempSync(join(tmpdir(), "start-"));
            const offset = 21000 + (process.pid % 2000);
            const child = spawn("npm", ["start", "--", "--state", state, "--port-offset", String(offset)], {
                cwd: ROOT,
                stdio: ["ignore", "pipe", "pipe"],
                detached: true,
            });
            let output = "";
            child.stdout.on("data", (chunk: Buffer) => {
                output += chunk.toString();
            });
            child.stderr.on("data", (chunk: Buffer) => {
                output += chunk.toString();
            });
            try {
                await waitUntil(
                    () => output.includes("Ctrl-C stops the server"),
                    60_000,
                    () => output,
                );
                const port = 5222 + offset;
                assert.match(output, new RegExp(`runs on 127\\.0\\.0\\.1:${port}`));
                const credentials = JSON.parse(
                    readFileSync(join(state, "credentials.json"), "utf8"),
                ) as Record<string, string>;
                assert.deepEqual(Object.keys(credentials).sort(), [
                    "erik@johansson.example",
                    "mamma@johansson.example",
                    "pappa@johansson.example",
                    "sven@johansson.example",
                    "åsa@johansson.example",
                ]);
                assert.equal(statSync(join(state, "credentials.json")).mode & 0o777, 0o600);
                assert.ok(
                    output.includes(`pappa@johansson.example  ${credentials["pappa@johansson.example"]}`),
                );
                assert.equal(await portOpen(port), true);

                const links = JSON.parse(readFileSync(join(state, "welcome-links.json"), "utf8")) as Record<
                    string,
                    string
                >;
                assert.deepEqual(Object.keys(links).sort(), Object.keys(credentials).sort());
                assert.equal(statSync(join(state, "welcome-links.json")).mode & 0o777, 0o600);
                for (const [jid, link] of Object.entries(links)) {
                    assert.match(
                        link,
                        new RegExp(
                            `^https://xmpp\\.johansson\\.example:${5443 + offset}/welcome\\?[\\w-]{20,}$`,
                        ),
                    );
                    assert.ok(output.includes(`${jid}  ${link}`), `${jid}'s link is not printed`);
                }
                assert.match(output, /family@conference\.johansson\.example {2}\(Family\)/);
                assert.match(output, /relatives@conference\.johansson\.example {2}\(Relatives\)/);
                const names = ["", "xmpp.", "conference.", "upload."].map(
                    (name) => `${name}johansson.example`,
                );
                assert.ok(output.includes(`echo "127.0.0.1 ${names.join(" ")}" | sudo tee -a /etc/hosts`));
                const sheets = readFileSync(join(state, "welcome-sheets.html"), "utf8");
                for (const link of Object.values(links)) assert.ok(sheets.includes(link));
                assert.equal(statSync(join(state, "welcome-sheets.html")).mode & 0o777, 0o600);
                if (chromiumInstalled()) {
                    await waitUntil(
                        () => output.includes("The welcome sheets are written."),
                        60_000,
                        () => output,
                    );
                    assert.equal(statSync(join(state, "welcome-sheets.pdf")).mode & 0o777, 0o600);
                }

                const exited = new Promise((resolve) => child.once("exit", resolve));
                // Ctrl-C in a terminal signals the whole foreground group: npm, its shell and the script.
                process.kill(-(child.pid ?? 0), "SIGINT");
                await exited;
                assert.match(output, /Stopping Prosody\.\.\./);
                assert.match(readFileSync(join(state, "prosody.log"), "utf8"), /Shutdown complete/);
                assert.equal(await portOpen(port), false);
            } finally {
                if (child.exitCode === null && child.signalCode === null)
                    process.kill(-(child.pid ?? 0), "SIGKILL");
                rmSync(state, { recursive: true, force: true });
            }
        },
    );
});

describe("README on npm start", () => {
    it("lists every port --port-offset moves, and nothing else", () => {
        const readme = readFileSync(join(ROOT, "README.md"), "utf8");
        const sentence = /The offset moves every port the try-out opens by n: ([^;]*);/.exec(readme)?.[1];
        assert.ok(sentence, "README no longer lists the ports the offset moves");
        const documented = (sentence.match(/\b\d{4}\b/g) ?? []).map(Number).sort();
        const moved = Object.entries(localHost("/state", 0).listeners)
            .filter(([, value]) => typeof value === "number")
            .map(([, port]) => Number(port))
            .sort();
        assert.deepEqual(documented, moved);
        for (const [name, port] of Object.entries(localHost("/state", 7).listeners)) {
            if (typeof port === "number") assert.ok(moved.includes(port - 7), `${name} does not move`);
        }
    });
});

describe("npm start, when Prosody cannot start", { skip: missingTools([PROSODY]) }, () => {
    it("shows what Prosody said", () => {
        const state = mkdtempSync(join(tmpdir(), "start-"));
        try {
            // A directory where Prosody's pidfile goes: Prosody stops at once, saying why.
            mkdirSync(join(state, "prosody.pid"));
            const offset = 24000 + (process.pid % 2000);
            const result = spawnSync(
                "npm",
                ["start", "--", "--state", state, "--port-offset", String(offset)],
                { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
            );
            assert.equal(result.status, 1, result.stdout + result.stderr);
            assert.match(result.stderr, /did not start listening on 127\.0\.0\.1:\d+ \(it exited with 1\)/);
            assert.match(result.stderr, /Couldn't write pidfile at .*prosody\.pid.*Is a directory/);
        } finally {
            rmSync(state, { recursive: true, force: true });
        }
    });

    it(
        "says which directory keeps Debian's prosody user out, when run as root",
        {
            skip:
                process.getuid?.() === 0
                    ? false
                    : "needs root: only root's try-out runs Prosody as another user",
        },
        () => {
            const home = mkdtempSync(join(tmpdir(), "private-home-"));
            try {
                chmodSync(home, 0o700);
                const result = spawnSync(
                    "npm",
                    ["start", "--", "--state", join(home, "state"), "--port-offset", "25000"],
                    { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
                );
                assert.equal(result.status, 1, result.stdout + result.stderr);
                assert.match(
                    result.stderr,
                    new RegExp(`prosody user, which cannot enter ${home} \\(mode 0700\\)`),
                );
            } finally {
                rmSync(home, { recursive: true, force: true });
            }
        },
    );
});

async function waitUntil(
    condition: () => boolean,
    timeoutMs: number,
    describeState: () => string,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${describeState()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}
