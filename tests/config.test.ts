import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { load } from "js-yaml";
import { decidedAboutBackups } from "./support/families";
import { rawConfigFromEngine, rawConfigFromStackFile } from "../model/stack-config";
import { DEFAULTS } from "../model/known-values";
import { CONFIG_KEYS, ConfigProblem, formatProblems, parseFamilyConfig } from "../model/validate";

const ED25519_KEY =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHC+cRYnckoH99E58M9oEnVJuT1/tqi0uys6337/4NwG anna@laptop";

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

/** Config as read (objects without a prototype) in the shape of object literals, to compare. */
function asPlainData(value: unknown): unknown {
    return JSON.parse(JSON.stringify(value));
}

function modelOf(raw: Record<string, unknown>) {
    const result = parseFamilyConfig(decidedAboutBackups(raw));
    if (!result.ok) assert.fail(formatProblems(result.problems));
    return result.model;
}

describe("a minimal family config", () => {
    it("needs only the domain, the members and where backups go (or none)", () => {
        const model = modelOf(family());
        assert.equal(model.domain, "johansson.me");
        assert.deepEqual(
            model.members.map((m) => m.username),
            ["pappa", "anna"],
        );
    });

    it("defaults the server host name to xmpp.<domain> and the DNS zone to the domain", () => {
        const model = modelOf(family());
        assert.equal(model.hostname, "xmpp.johansson.me");
        assert.equal(model.dnsZone, "johansson.me");
    });

    it("puts every member in one group called Family", () => {
        assert.deepEqual(modelOf(family()).groups, [{ name: "Family", members: ["pappa", "anna"] }]);
    });

    it("defaults to a cx23 in Falkenstein on Debian 13 with a 10 GB volume and no backups", () => {
        assert.deepEqual(modelOf(family()).hetzner, {
            location: "fsn1",
            serverType: "cx23",
            image: "debian-13",
            backups: false,
            volumeSizeGb: 10,
        });
    });

    it("keeps message history for a year by default", () => {
        assert.equal(modelOf(family()).archiveRetention, "1y");
    });

    it("keeps message history forever when asked", () => {
        assert.equal(modelOf(family({ archiveRetention: "forever" })).archiveRetention, "forever");
    });

    it("allows SSH from anywhere by default, with no human keys", () => {
        const model = modelOf(family());
        assert.deepEqual(model.sshAllowedCidrs, ["0.0.0.0/0", "::/0"]);
        assert.deepEqual(model.sshPublicKeys, []);
    });

    it("makes members non-admins unless they say admin: true", () => {
        assert.deepEqual(
            modelOf(family()).members.map((m) => m.admin),
            [true, false],
        );
    });

    it("keeps display names in any script", () => {
        const model = modelOf(
            family({
                members: [
                    { username: "åsa", name: "Mormor Åsa" },
                    { username: "li", name: "李小龙" },
                ],
            }),
        );
        assert.deepEqual(
            model.members.map((m) => m.name),
            ["Mormor Åsa", "李小龙"],
        );
    });

    it("turns calls on, relaying through 256 UDP ports from 49152", () => {
        assert.deepEqual(modelOf(family()).calls, { relayPorts: { min: 49152, max: 49407 } });
    });

    it("turns calls off when asked", () => {
        assert.equal(modelOf(family({ calls: false })).calls, undefined);
    });

    it("relays calls through the port range the config names", () => {
        assert.deepEqual(modelOf(family({ callRelayPorts: "60000-60099" })).calls?.relayPorts, {
            min: 60000,
            max: 60099,
        });
    });

    it("gives welcome links valid for a week, and welcome sheets in English, by default", () => {
        assert.deepEqual(modelOf(family()).welcome, { linkDays: 7, language: "en" });
    });

    it("takes the family's language and how long its welcome links stay valid", () => {
        assert.deepEqual(modelOf(family({ language: "nb", welcomeLinkDays: 14 })).welcome, {
            linkDays: 14,
            language: "nb",
        });
    });

    it("federates, and with federation off reaches the push services of the common apps", () => {
        const model = modelOf(family());
        assert.equal(model.federation, true);
        assert.deepEqual(model.pushGateways, [
            "p2.siacs.eu",
            "eu.prod.push.monal-im.org",
            "push.tigase.im",
            "push.snikket.net",
            "push-ios.snikket.net",
        ]);
    });

    it("takes the push gateways the config names instead", () => {
        const model = modelOf(family({ federation: false, pushGateways: ["push.example.net"] }));
        assert.deepEqual(model.pushGateways, ["push.example.net"]);
    });

    it("lets one person have several accounts", () => {
        const model = modelOf(
            family({
                members: [
                    { username: "pappa", name: "Pappa" },
                    { username: "pappa.work", name: "Pappa (work)" },
                ],
            }),
        );
        assert.equal(model.members.length, 2);
    });
});

describe("former members (removedMembers)", () => {
    it("are none by default", () => {
        assert.deepEqual(modelOf(family()).removedMembers, []);
    });

    it("keep the account unless erase: true says otherwise", () => {
        assert.deepEqual(
            modelOf(family({ removedMembers: [{ username: "bo" }, { username: "carl", erase: true }] }))
                .removedMembers,
            [
                { username: "bo", erase: false },
                { username: "carl", erase: true },
            ],
        );
    });

    it("cannot also be members: a username belongs to one person for good", () => {
        const sameAccount = problemsOf(family({ removedMembers: [{ username: "anna", erase: true }] }));
        assert.equal(sameAccount.length, 1);
        assert.match(
            sameAccount[0].message,
            /^"anna" is also in family-xmpp:members \("anna"\)\. A username belongs to one person for good/,
        );
    });

    it("are listed once, with erase as true or false and no other field", () => {
        assert.deepEqual(
            problemsOf(
                family({
                    removedMembers: [
                        { username: "bo", erase: "yes" },
                        { username: "bo" },
                        { username: "carl", eraze: true },
                        "dora",
                    ],
                }),
            ).map((p) => `${p.key}: ${p.message}`),
            [
                "family-xmpp:removedMembers[0].erase: must be true (delete the account and its history) " +
                    'or false (keep them, the login disabled), not "yes"',
                'family-xmpp:removedMembers[1].username: "bo" is already listed as removedMembers[0]',
                'family-xmpp:removedMembers[2].eraze: is not a field here; did you mean "erase"? ' +
                    "(known: username, erase)",
                "family-xmpp:removedMembers[3]: " +
                    'must be an entry like `{username: bo, erase: false}`, not "dora"',
            ],
        );
    });
});

describe("config problems", () => {
    it("rejects a relay port range that is not a range", () => {
        assert.deepEqual(problemsOf(family({ callRelayPorts: 49152 })), [
            {
                key: "family-xmpp:callRelayPorts",
                message: 'must be a UDP port range like "49152-49407", not 49152',
            },
        ]);
    });

    it("rejects a relay port range that runs backwards or into privileged ports", () => {
        assert.match(
            problemsOf(family({ callRelayPorts: "50000-40000" }))[0].message,
            /from a lower to a higher port between 1024 and 65535/,
        );
        assert.match(problemsOf(family({ callRelayPorts: "80-2000" }))[0].message, /between 1024 and 65535/);
    });

    it("rejects a relay port range too small for a family's calls", () => {
        assert.equal(
            problemsOf(family({ callRelayPorts: "50000-50003" }))[0].message,
            'holds 4 ports; give at least 16 (each relayed call leg takes one), e.g. "49152-49407"',
        );
    });

    it("rejects a relay port range that covers a port the server listens on", () => {
        assert.match(
            problemsOf(family({ callRelayPorts: "5000-6000" }))[0].message,
            /includes port 5222, which the server itself listens on/,
        );
    });

    it("points out relay ports set while calls are off", () => {
        assert.deepEqual(
            problemsOf(family({ calls: false, callRelayPorts: "60000-60099" })).map((p) => p.key),
            ["family-xmpp:callRelayPorts"],
        );
    });

    it("rejects a welcome link that would never expire, or expire at once", () => {
        for (const days of [0, 91, 2.5, "7"]) {
            assert.deepEqual(problemsOf(family({ welcomeLinkDays: days })), [
                {
                    key: "family-xmpp:welcomeLinkDays",
                    message: `must be a whole number of days from 1 to 90, not ${
                        typeof days === "string" ? `"${days}"` : days
                    }`,
                },
            ]);
        }
    });

    it("names the languages the welcome sheets come in", () => {
        assert.deepEqual(problemsOf(family({ language: "no" })), [
            {
                key: "family-xmpp:language",
                message:
                    '"no" is not a language the welcome sheets come in; ' +
                    'choose "en" (English) or "nb" (Norwegian Bokmål)',
            },
        ]);
    });

    it("names a missing domain and says how to set it", () => {
        assert.deepEqual(problemsOf({ members: family().members }), [
            {
                key: "family-xmpp:domain",
                message: "is required: the family's domain, e.g. `pulumi config set domain johansson.me`",
            },
        ]);
    });

    it("rejects a domain with uppercase letters and suggests the lowercase one", () => {
        assert.deepEqual(problemsOf(family({ domain: "Johansson.ME" })), [
            {
                key: "family-xmpp:domain",
                message: '"Johansson.ME" has uppercase letters; write "johansson.me"',
            },
        ]);
    });

    it("rejects a push gateway that is not a domain name, naming the entry", () => {
        assert.deepEqual(problemsOf(family({ pushGateways: ["p2.siacs.eu", "push service", 5] })), [
            {
                key: "family-xmpp:pushGateways[1]",
                message: '"push service" may only contain letters a-z, digits, hyphens and dots',
            },
            { key: "family-xmpp:pushGateways[2]", message: "must be a text, not 5" },
        ]);
    });

    it("rejects a single-label domain", () => {
        assert.match(problemsOf(family({ domain: "localhost" }))[0].message, /is not a full domain name/);
    });

    it("rejects a domain with characters DNS does not allow", () => {
        assert.match(
            problemsOf(family({ domain: "my_family.me" }))[0].message,
            /may only contain letters a-z, digits, hyphens and dots/,
        );
    });

    it("asks for the punycode form of an internationalised domain", () => {
        assert.match(problemsOf(family({ domain: "familjen-åström.se" }))[0].message, /punycode/);
    });

    it("rejects a domain part starting with a hyphen", () => {
        assert.match(problemsOf(family({ domain: "-bad.me" }))[0].message, /starts or ends with a hyphen/);
    });

    it("rejects a trailing dot and shows the name without it", () => {
        assert.equal(
            problemsOf(family({ domain: "johansson.me." }))[0].message,
            '"johansson.me." ends with a dot; write "johansson.me"',
        );
    });

    it("rejects a host name outside the DNS zone", () => {
        assert.deepEqual(problemsOf(family({ hostname: "chat.example.org" })), [
            {
                key: "family-xmpp:hostname",
                message:
                    '"chat.example.org" is outside the DNS zone "johansson.me", ' +
                    "so this stack cannot publish it; " +
                    'use e.g. "xmpp.johansson.me"',
            },
        ]);
    });

    it("rejects a DNS zone that does not contain the domain", () => {
        assert.equal(
            problemsOf(family({ dnsZone: "example.org", hostname: "xmpp.example.org" }))[0].key,
            "family-xmpp:dnsZone",
        );
    });

    it("accepts a family domain inside a parent zone", () => {
        const model = modelOf(family({ domain: "family.example.org", dnsZone: "example.org" }));
        assert.equal(model.hostname, "xmpp.family.example.org");
    });

    it("rejects an empty member list", () => {
        assert.deepEqual(problemsOf(family({ members: [] })), [
            {
                key: "family-xmpp:members",
                message: "is empty; a family server needs at least one member",
            },
        ]);
    });

    it("rejects members given as something other than a list", () => {
        assert.match(
            problemsOf(family({ members: "anna" }))[0].message,
            /must be a list of `\{username, name, admin\?\}` entries, not "anna"/,
        );
    });

    it("rejects an uppercase username and suggests the lowercase one", () => {
        assert.deepEqual(problemsOf(family({ members: [{ username: "Anna", name: "Anna" }] })), [
            {
                key: "family-xmpp:members[0].username",
                message: '"Anna" has uppercase letters; XMPP usernames are case-insensitive, write "anna"',
            },
        ]);
    });

    it("rejects characters that cannot stand in an XMPP username", () => {
        const problems = problemsOf(
            family({
                members: [
                    { username: "anna@home", name: "Anna" },
                    { username: "bo bo", name: "Bo" },
                ],
            }),
        );
        assert.deepEqual(
            problems.map((p) => p.key),
            ["family-xmpp:members[0].username", "family-xmpp:members[1].username"],
        );
        assert.match(problems[0].message, /contains a character XMPP addresses cannot have/);
    });

    it("rejects usernames with punctuation outside . - _", () => {
        assert.match(
            problemsOf(family({ members: [{ username: "anna+1", name: "Anna" }] }))[0].message,
            /may only contain lowercase letters, digits/,
        );
    });

    it("rejects a duplicate username and names the first one", () => {
        const problems = problemsOf(
            family({
                members: [
                    { username: "anna", name: "Anna" },
                    { username: "anna", name: "Anna B" },
                ],
            }),
        );
        assert.deepEqual(problems, [
            {
                key: "family-xmpp:members[1].username",
                message: '"anna" is already used by members[0]; each account needs its own username',
            },
        ]);
    });

    it("rejects two usernames that differ only in case, because they are one address", () => {
        const problems = problemsOf(
            family({
                members: [
                    { username: "anna", name: "Anna" },
                    { username: "ANNA", name: "Anna B" },
                ],
            }),
        );
        assert.ok(
            problems.some(
                (p) =>
                    p.key === "family-xmpp:members[1].username" &&
                    p.message ===
                        '"ANNA" is the same account as members[0] ("anna"): ' +
                            'the server stores both as "anna"; choose another username',
            ),
        );
    });

    it("rejects a member without a name", () => {
        assert.deepEqual(problemsOf(family({ members: [{ username: "anna" }] })), [
            {
                key: "family-xmpp:members[0].name",
                message: 'is required: the name the family sees, e.g. "Mormor"',
            },
        ]);
    });

    it("rejects a display name with a line break", () => {
        assert.match(
            problemsOf(family({ members: [{ username: "anna", name: "Anna\nB" }] }))[0].message,
            /line break/,
        );
    });

    it("rejects an admin flag that is not true or false", () => {
        assert.deepEqual(
            problemsOf(family({ members: [{ username: "anna", name: "Anna", admin: "yes" }] })),
            [
                {
                    key: "family-xmpp:members[0].admin",
                    message: 'must be true or false, not "yes"',
                },
            ],
        );
    });

    it("points out a misspelt member field", () => {
        assert.deepEqual(problemsOf(family({ members: [{ username: "anna", name: "Anna", admn: true }] })), [
            {
                key: "family-xmpp:members[0].admn",
                message: 'is not a field here; did you mean "admin"? (known: username, name, admin)',
            },
        ]);
    });

    it("rejects a group naming someone who is not a member, with a suggestion", () => {
        assert.deepEqual(problemsOf(family({ groups: [{ name: "Family", members: ["pappa", "ana"] }] })), [
            {
                key: "family-xmpp:groups[0].members[1]",
                message: '"ana" is not a username in family-xmpp:members; did you mean "anna"?',
            },
        ]);
    });

    it("rejects two groups with the same name", () => {
        const problems = problemsOf(
            family({
                groups: [
                    { name: "Family", members: ["pappa"] },
                    { name: "family", members: ["anna"] },
                ],
            }),
        );
        assert.equal(problems[0].key, "family-xmpp:groups[1].name");
    });

    it("rejects a group name the shared-roster file cannot hold", () => {
        assert.match(
            problemsOf(family({ groups: [{ name: "[Kids]", members: ["anna"] }] }))[0].message,
            /contains "\[" or "\]"/,
        );
        assert.match(
            problemsOf(family({ groups: [{ name: "+All", members: ["anna"] }] }))[0].message,
            /every account on the server/,
        );
    });

    it("rejects an empty group list, which would hide everyone from everyone", () => {
        assert.equal(problemsOf(family({ groups: [] }))[0].key, "family-xmpp:groups");
    });

    it("rejects an unknown server type and suggests the nearest", () => {
        const [problem] = problemsOf(family({ serverType: "cx22" }));
        assert.equal(problem.key, "family-xmpp:serverType");
        assert.match(problem.message, /^"cx22" is not known; did you mean "cx23"\? Choose one of: cx23, /);
    });

    it("rejects an unknown location and lists the known ones", () => {
        const [problem] = problemsOf(family({ location: "fra1" }));
        assert.equal(problem.key, "family-xmpp:location");
        assert.match(problem.message, /Choose one of: fsn1, nbg1, hel1, ash, hil, sin$/);
    });

    it("rejects a volume smaller than Hetzner allows", () => {
        assert.deepEqual(problemsOf(family({ volumeSizeGb: 5 })), [
            {
                key: "family-xmpp:volumeSizeGb",
                message: "must be a whole number of GB from 10 to 10240 (Hetzner's volume limits), not 5",
            },
        ]);
    });

    it("rejects a history retention Prosody cannot read", () => {
        assert.deepEqual(problemsOf(family({ archiveRetention: "one year" })), [
            {
                key: "family-xmpp:archiveRetention",
                message:
                    'must be a number of days, weeks, months or years ("30d", "4w", "6m", "1y") ' +
                    'or "forever", not "one year"',
            },
        ]);
    });

    it("limits shared files to 100 MB each, 1000 MB a day, and half the volume in all by default", () => {
        assert.deepEqual(modelOf(family()).uploads, {
            sizeLimitMb: 100,
            dailyQuotaMb: 1000,
            totalQuotaMb: 5000,
        });
    });

    it("rejects a daily upload quota smaller than one file", () => {
        assert.deepEqual(problemsOf(family({ uploadSizeLimitMb: 500, uploadDailyQuotaMb: 200 })), [
            {
                key: "family-xmpp:uploadDailyQuotaMb",
                message: "is smaller than one file may be (500 MB), so such a file could never be sent",
            },
        ]);
    });

    it("rejects backups given as text", () => {
        assert.equal(problemsOf(family({ backups: "on" }))[0].message, 'must be true or false, not "on"');
    });

    it("accepts a well-formed ed25519 key", () => {
        assert.deepEqual(modelOf(family({ sshPublicKeys: [ED25519_KEY] })).sshPublicKeys, [ED25519_KEY]);
    });

    it("rejects a truncated SSH key", () => {
        const truncated = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 anna@laptop";
        assert.deepEqual(problemsOf(family({ sshPublicKeys: [truncated] })), [
            {
                key: "family-xmpp:sshPublicKeys[0]",
                message: 'is damaged: its body does not hold a "ssh-ed25519" key (copied incompletely?)',
            },
        ]);
    });

    it("rejects a key whose body is of another type than it says", () => {
        const mislabeled = ED25519_KEY.replace("ssh-ed25519", "ssh-rsa");
        assert.match(
            problemsOf(family({ sshPublicKeys: [mislabeled] }))[0].message,
            /does not hold a "ssh-rsa" key/,
        );
    });

    it("rejects a private key pasted where the public one belongs", () => {
        assert.match(
            problemsOf(family({ sshPublicKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] }))[0].message,
            /OpenSSH public key line|PEM block/,
        );
    });

    it("rejects a CIDR with host bits set and names the network", () => {
        assert.deepEqual(problemsOf(family({ sshAllowedCidrs: ["198.51.100.7/24"] })), [
            {
                key: "family-xmpp:sshAllowedCidrs[0]",
                message: '"198.51.100.7/24" has host bits set; the network is "198.51.100.0/24"',
            },
        ]);
    });

    it("rejects something that is not a CIDR", () => {
        assert.match(problemsOf(family({ sshAllowedCidrs: ["my-home"] }))[0].message, /is not in CIDR form/);
        assert.match(
            problemsOf(family({ sshAllowedCidrs: ["300.1.1.0/24"] }))[0].message,
            /does not start with an IPv4 or IPv6 address/,
        );
    });

    it("accepts IPv6 networks", () => {
        assert.deepEqual(modelOf(family({ sshAllowedCidrs: ["2001:db8::/48"] })).sshAllowedCidrs, [
            "2001:db8::/48",
        ]);
    });

    it("refuses an empty SSH allow-list, which would lock the stack out of its own server", () => {
        assert.equal(problemsOf(family({ sshAllowedCidrs: [] }))[0].key, "family-xmpp:sshAllowedCidrs");
    });

    it("points out a misspelt config key", () => {
        assert.deepEqual(problemsOf(family({ memebrs: [] })), [
            {
                key: "family-xmpp:memebrs",
                message: 'is not a setting of this stack; did you mean "family-xmpp:members"?',
            },
        ]);
    });

    it("lists every problem at once, in config order", () => {
        const problems = problemsOf({
            domain: "Bad_Domain",
            members: [{ username: "Anna", name: "" }],
            serverType: "huge",
            volumeSizeGb: 1,
        });
        assert.deepEqual(
            problems.map((p) => p.key),
            [
                "family-xmpp:domain",
                "family-xmpp:members[0].username",
                "family-xmpp:members[0].name",
                "family-xmpp:serverType",
                "family-xmpp:volumeSizeGb",
            ],
        );
    });

    it("formats problems one per line, key first", () => {
        const text = formatProblems([
            { key: "family-xmpp:domain", message: "is required" },
            { key: "family-xmpp:members", message: "is empty" },
        ]);
        assert.equal(
            text,
            "The family-xmpp config has 2 problems:\n" +
                "  - family-xmpp:domain: is required\n" +
                "  - family-xmpp:members: is empty",
        );
    });
});

describe("the project's config schema (Pulumi.yaml)", () => {
    const projectFile = readFileSync(join(__dirname, "..", "Pulumi.yaml"), "utf8");
    const schemaKeys = Object.keys((load(projectFile) as { config: Record<string, unknown> }).config);

    it("declares only settings this stack reads", () => {
        assert.deepEqual(
            schemaKeys.filter((key) => !(CONFIG_KEYS as readonly string[]).includes(key)),
            [],
        );
    });

    it("documents the defaults the program applies (model/known-values.ts)", () => {
        const descriptions = (load(projectFile) as { config: Record<string, { description?: string }> })
            .config;
        const documented = (key: string) =>
            /Default ([^.,(]+)/.exec(descriptions[key]?.description ?? "")?.[1];
        const { callRelayPorts, sshAllowedCidrs } = DEFAULTS;
        const expected: Record<string, string> = {
            location: DEFAULTS.location,
            serverType: DEFAULTS.serverType,
            backups: String(DEFAULTS.backups),
            volumeSizeGb: String(DEFAULTS.volumeSizeGb),
            sshAllowedCidrs:
                sshAllowedCidrs.join() === "0.0.0.0/0,::/0" ? "anywhere " : sshAllowedCidrs.join(),
            federation: String(DEFAULTS.federation),
            archiveRetention: DEFAULTS.archiveRetention,
            uploadSizeLimitMb: String(DEFAULTS.uploadSizeLimitMb),
            uploadDailyQuotaMb: String(DEFAULTS.uploadDailyQuotaMb),
            calls: String(DEFAULTS.calls),
            callRelayPorts: `"${callRelayPorts.min}-${callRelayPorts.max}"`,
            letsEncryptStaging: String(DEFAULTS.letsEncryptStaging),
            allowWildcardCertificates: String(DEFAULTS.allowWildcardCertificates),
            welcomeLinkDays: String(DEFAULTS.welcomeLinkDays),
            language: DEFAULTS.language,
        };
        assert.deepEqual(
            Object.fromEntries(Object.keys(expected).map((key) => [key, documented(key)])),
            expected,
        );
        const gateways = /Default [^:]*: ([^"]+)\.$/.exec(descriptions.pushGateways?.description ?? "")?.[1];
        assert.deepEqual(gateways?.split(", "), DEFAULTS.pushGateways);
    });

    it("documents the backup's defaults (schedule and retention) where it describes the setting", () => {
        const { schedule, keep } = DEFAULTS.backup;
        assert.match(projectFile, new RegExp(`Default schedule ${schedule}\\.`));
        assert.match(
            projectFile.replace(/\n\s*#\s*/g, " "),
            new RegExp(`Default keep ${keep.daily} daily, ${keep.weekly} weekly, ${keep.monthly} monthly\\.`),
        );
    });

    it("declares or documents every setting this stack reads", () => {
        const undocumented = CONFIG_KEYS.filter(
            (key) => !schemaKeys.includes(key) && !projectFile.includes(`family-xmpp:${key}`),
        );
        assert.deepEqual(undocumented, []);
    });
});

describe("reading stack config", () => {
    it("takes the family-xmpp keys of a stack file and leaves provider keys alone", () => {
        const raw = rawConfigFromStackFile(
            [
                "config:",
                "  hcloud:token:",
                "    secure: AAABAKx",
                "  family-xmpp:domain: johansson.me",
                "  family-xmpp:members:",
                "    - username: anna",
                "      name: Anna",
            ].join("\n"),
        );
        assert.deepEqual(asPlainData(raw), {
            domain: "johansson.me",
            members: [{ username: "anna", name: "Anna" }],
        });
    });

    it("decodes the engine's JSON-encoded values and keeps plain strings", () => {
        const raw = rawConfigFromEngine({
            "family-xmpp:domain": "johansson.me",
            "family-xmpp:members": '[{"username":"anna","name":"Anna"}]',
            "family-xmpp:backups": "true",
            "family-xmpp:volumeSizeGb": "20",
            "cloudflare:apiToken": "secret",
        });
        assert.deepEqual(asPlainData(raw), {
            domain: "johansson.me",
            members: [{ username: "anna", name: "Anna" }],
            backups: true,
            volumeSizeGb: 20,
        });
    });
});
