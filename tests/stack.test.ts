import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { readCloudConfig } from "./support/cloud-config";
import {
    optionsOf,
    resourceNamed,
    resourcesOf,
    runStack,
    secretValue,
    StackRun,
} from "./support/stack-harness";

const SERVER = "hcloud:index/server:Server";
const COMMAND = "command:remote:Command";
const DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord";

const FAMILY = {
    domain: "family.test",
    members: [
        { username: "anna", name: "Anna", admin: true },
        { username: "bo", name: "Bo" },
        { username: "cecilia", name: "Cecilia" },
    ],
    groups: [
        { name: "Family", members: ["anna", "bo"] },
        { name: "Friends", members: ["anna", "cecilia"] },
    ],
    sshAllowedCidrs: ["198.51.100.0/24", "2001:db8:77::/48"],
};

const WITH_NEW_MEMBER = {
    ...FAMILY,
    members: [...FAMILY.members, { username: "dora", name: "Dora" }],
    groups: [{ name: "Family", members: ["anna", "bo", "dora"] }, FAMILY.groups[1]],
};

let run: StackRun;
let afterAddingDora: StackRun;

before(() => {
    run = runStack(FAMILY);
    afterAddingDora = runStack(WITH_NEW_MEMBER);
});

describe("the server", () => {
    it("is a Debian 13 cx23 in Falkenstein with Hetzner's delete and rebuild protection", () => {
        const { inputs } = resourceNamed(run, SERVER, "family-server");
        assert.equal(inputs.image, "debian-13");
        assert.equal(inputs.serverType, "cx23");
        assert.equal(inputs.location, "fsn1");
        assert.equal(inputs.deleteProtection, true);
        assert.equal(inputs.rebuildProtection, true);
        assert.equal(inputs.backups, false);
    });

    it("boots from the rendered user data, which holds no password", () => {
        const rendered = String(resourceNamed(run, SERVER, "family-server").inputs.userData);
        assert.ok(rendered.startsWith("#cloud-config\n"));
        // Everything cloud-init reads from it, the compressed files decompressed.
        const userData =
            rendered +
            readCloudConfig(rendered)
                .write_files.map((file) => file.content)
                .join("\n");
        assert.match(userData, /VirtualHost "family\.test"/);
        for (const password of Object.values(run.outputs.passwords.value as Record<string, string>)) {
            assert.ok(!userData.includes(password), "a member's password is in the user data");
        }
        assert.doesNotMatch(userData, /PRIVATE KEY/);
    });

    it("mounts the family's volume by its id", () => {
        const rendered = String(resourceNamed(run, SERVER, "family-server").inputs.userData);
        const userData = readCloudConfig(rendered)
            .write_files.map((file) => file.content)
            .join("\n");
        const volumeId = resourceNamed(run, "hcloud:index/volume:Volume", "family-data").id;
        assert.ok(userData.includes(`/dev/disk/by-id/scsi-0HC_Volume_${volumeId}`));
    });

    it("uses the two primary IPs, the firewall and the stack's deploy key", () => {
        const { inputs } = resourceNamed(run, SERVER, "family-server");
        const idOf = (type: string, name: string) => Number(resourceNamed(run, type, name).id);
        assert.deepEqual(inputs.publicNets, [
            {
                ipv4Enabled: true,
                ipv4: idOf("hcloud:index/primaryIp:PrimaryIp", "family-ipv4"),
                ipv6Enabled: true,
                ipv6: idOf("hcloud:index/primaryIp:PrimaryIp", "family-ipv6"),
            },
        ]);
        assert.deepEqual(inputs.firewallIds, [idOf("hcloud:index/firewall:Firewall", "family-firewall")]);
        assert.deepEqual(inputs.sshKeys, [
            resourceNamed(run, "hcloud:index/sshKey:SshKey", "family-deploy-key").id,
        ]);
    });

    it("gets the data volume attached", () => {
        const { inputs } = resourceNamed(
            run,
            "hcloud:index/volumeAttachment:VolumeAttachment",
            "family-data-attachment",
        );
        assert.equal(inputs.serverId, Number(resourceNamed(run, SERVER, "family-server").id));
        assert.equal(
            inputs.volumeId,
            Number(resourceNamed(run, "hcloud:index/volume:Volume", "family-data").id),
        );
    });

    it("ignores changes to its user data, so family changes never replace it", () => {
        assert.deepEqual(optionsOf(run, SERVER, "family-server").ignoreChanges, ["userData"]);
    });

    it("is deleted before its replacement is created, since the primary IPs move to the new one", () => {
        assert.equal(optionsOf(run, SERVER, "family-server").deleteBeforeReplace, true);
    });

    it("has a generated ED25519 deploy key, so no one's private key is needed", () => {
        assert.equal(
            resourceNamed(run, "tls:index/privateKey:PrivateKey", "family-deploy-key").inputs.algorithm,
            "ED25519",
        );
    });
});

describe("what outlives the server", () => {
    it("keeps both primary IPs, protected and never deleted with the server", () => {
        for (const family of ["ipv4", "ipv6"]) {
            const { inputs } = resourceNamed(run, "hcloud:index/primaryIp:PrimaryIp", `family-${family}`);
            assert.equal(inputs.type, family);
            assert.equal(inputs.autoDelete, false);
            assert.equal(inputs.deleteProtection, true);
            assert.equal(
                optionsOf(run, "hcloud:index/primaryIp:PrimaryIp", `family-${family}`).protect,
                true,
            );
        }
    });

    it("keeps the data volume, protected, formatted ext4, 10 GB by default", () => {
        const { inputs } = resourceNamed(run, "hcloud:index/volume:Volume", "family-data");
        assert.equal(inputs.size, 10);
        assert.equal(inputs.format, "ext4");
        assert.equal(inputs.deleteProtection, true);
        assert.equal(optionsOf(run, "hcloud:index/volume:Volume", "family-data").protect, true);
    });

    it("points reverse DNS of both addresses at the host name", () => {
        const rdns = resourcesOf(run, "hcloud:index/rdns:Rdns").map((r) => [
            r.name,
            r.inputs.dnsPtr,
            r.inputs.ipAddress,
        ]);
        assert.deepEqual(rdns.sort(), [
            ["family-ipv4-rdns", "xmpp.family.test", "203.0.113.10"],
            ["family-ipv6-rdns", "xmpp.family.test", "2001:db8:10::1"],
        ]);
    });
});

describe("the firewall", () => {
    const rulesOf = (stack: StackRun) => {
        const { inputs } = resourceNamed(stack, "hcloud:index/firewall:Firewall", "family-firewall");
        return (
            inputs.rules as { direction: string; protocol: string; port?: string; sourceIps: string[] }[]
        ).map((rule) => `${rule.direction} ${rule.protocol} ${rule.port ?? "-"} ${rule.sourceIps.join(",")}`);
    };

    it(
        "opens exactly the ports the features use: " + "SSH to the configured networks, the rest to everyone",
        () => {
            assert.deepEqual(rulesOf(run), [
                "in tcp 22 198.51.100.0/24,2001:db8:77::/48",
                "in tcp 5222 0.0.0.0/0,::/0",
                "in tcp 5223 0.0.0.0/0,::/0",
                "in tcp 443 0.0.0.0/0,::/0",
                "in tcp 5269 0.0.0.0/0,::/0",
                "in tcp 5270 0.0.0.0/0,::/0",
                "in udp 3478 0.0.0.0/0,::/0",
                "in tcp 3478 0.0.0.0/0,::/0",
                "in tcp 5349 0.0.0.0/0,::/0",
                "in udp 49152-49407 0.0.0.0/0,::/0",
                "in icmp - 0.0.0.0/0,::/0",
            ]);
        },
    );

    it("opens the relay ports the config names for calls", () => {
        const rules = rulesOf(runStack({ ...FAMILY, callRelayPorts: "60000-60099" }));
        assert.ok(rules.includes("in udp 60000-60099 0.0.0.0/0,::/0"));
        assert.ok(!rules.some((rule) => rule.includes("49152")));
    });

    it("opens no call ports when calls are turned off", () => {
        const rules = rulesOf(runStack({ ...FAMILY, calls: false }));
        assert.deepEqual(
            rules.filter((rule) => /3478|5349|udp/.test(rule)),
            [],
        );
    });
});

describe("the DNS records", () => {
    it("are never proxied, carry a TTL and say who manages them", () => {
        const records = resourcesOf(run, DNS_RECORD);
        assert.equal(records.length, 14);
        for (const { inputs } of records) {
            assert.equal(inputs.proxied, false);
            assert.equal(inputs.ttl, 3600);
            assert.equal(inputs.zoneId, "zone-123");
            assert.match(String(inputs.comment), /Managed by family-xmpp/);
        }
    });

    it("point the host name at the primary IPs", () => {
        const a = resourceNamed(run, DNS_RECORD, "family-a-xmpp.family.test-address").inputs;
        const aaaa = resourceNamed(run, DNS_RECORD, "family-aaaa-xmpp.family.test-address").inputs;
        assert.deepEqual([a.name, a.type, a.content], ["xmpp.family.test", "A", "203.0.113.10"]);
        assert.deepEqual(
            [aaaa.name, aaaa.type, aaaa.content],
            ["xmpp.family.test", "AAAA", "2001:db8:10::1"],
        );
    });

    it("publish the client and server SRV records with their data", () => {
        const directTls = resourceNamed(
            run,
            DNS_RECORD,
            "family-srv-_xmpps-client._tcp.family.test-5223",
        ).inputs;
        assert.equal(directTls.type, "SRV");
        assert.deepEqual(directTls.data, { priority: 0, weight: 5, port: 5223, target: "xmpp.family.test" });
        const client = resourceNamed(run, DNS_RECORD, "family-srv-_xmpp-client._tcp.family.test-5222").inputs;
        assert.deepEqual(client.data, { priority: 5, weight: 5, port: 5222, target: "xmpp.family.test" });
        const rooms = resourceNamed(
            run,
            DNS_RECORD,
            "family-srv-_xmpp-server._tcp.conference.family.test-5269",
        ).inputs;
        assert.deepEqual(rooms.data, { priority: 5, weight: 5, port: 5269, target: "xmpp.family.test" });
    });

    it("publish CAA in Cloudflare's data form: Let's Encrypt only, no wildcards", () => {
        const issue = resourceNamed(run, DNS_RECORD, "family-caa-family.test-issue-letsencrypt.org").inputs;
        assert.deepEqual(
            [issue.name, issue.data],
            ["family.test", { flags: 0, tag: "issue", value: "letsencrypt.org" }],
        );
        const wildcard = resourceNamed(run, DNS_RECORD, "family-caa-family.test-issuewild-;").inputs;
        assert.deepEqual(wildcard.data, { flags: 0, tag: "issuewild", value: ";" });
    });
});

describe("provisioning over SSH", () => {
    it("waits for the first boot, then writes the family files, then creates the accounts", () => {
        assert.deepEqual(optionsOf(run, COMMAND, "family-first-boot").dependsOn, ["family"]);
        assert.deepEqual(optionsOf(run, COMMAND, "family-files").dependsOn, ["family-first-boot"]);
        for (const username of ["anna", "bo", "cecilia"]) {
            assert.deepEqual(optionsOf(run, COMMAND, `family-account-${username}`).dependsOn, [
                "family-files",
            ]);
        }
    });

    it("logs in as root with the deploy key, kept secret", () => {
        const connection = resourceNamed(run, COMMAND, "family-first-boot").inputs.connection;
        assert.ok(
            secretValue(connection) !== undefined,
            "the connection (with the private key) is not secret",
        );
    });

    it("creates one account per member, with the password on stdin as a secret", () => {
        const accounts = resourcesOf(run, COMMAND).filter((c) => c.name.startsWith("family-account-"));
        assert.deepEqual(
            accounts.map((c) => c.name),
            ["family-account-anna", "family-account-bo", "family-account-cecilia"],
        );
        const anna = resourceNamed(run, COMMAND, "family-account-anna").inputs;
        assert.match(String(anna.create), /^jid='anna@family\.test'$/m);
        assert.equal(secretValue(anna.stdin), "pwFamilyPasswordAnna\n");
        assert.ok(!String(anna.create).includes("pwFamilyPasswordAnna"));
    });

    it("disables the account when the member leaves the config, keeping its history", () => {
        const anna = resourceNamed(run, COMMAND, "family-account-anna").inputs;
        assert.match(String(anna.delete), /user:disable\("anna@family\.test"\)/);
        assert.doesNotMatch(String(anna.delete), /deluser|user:delete/);
    });

    it("erases an account only for a former member listed with erase: true", () => {
        const erasing = runStack({
            ...FAMILY,
            removedMembers: [{ username: "dora", erase: true }, { username: "erik" }],
        });
        const erase = resourcesOf(erasing, COMMAND).filter((c) => c.name.startsWith("family-erase-"));
        assert.deepEqual(
            erase.map((c) => c.name),
            ["family-erase-dora"],
        );
        assert.match(String(erase[0].inputs.create), /user:delete\("dora@family\.test"\)/);
        assert.equal(erase[0].inputs.delete, undefined);
        assert.equal(resourcesOf(run, COMMAND).filter((c) => c.name.startsWith("family-erase-")).length, 0);
    });

    it("re-runs the server-wide steps on a new server", () => {
        const serverId = resourceNamed(run, SERVER, "family-server").id;
        assert.deepEqual(resourceNamed(run, COMMAND, "family-first-boot").inputs.triggers, [serverId]);
        assert.deepEqual(resourceNamed(run, COMMAND, "family-files").inputs.triggers, [serverId]);
    });

    it("never ties an account to the server, so a rebuild cannot delete it", () => {
        assert.equal(resourceNamed(run, COMMAND, "family-account-anna").inputs.triggers, undefined);
    });

    it("gives every member a welcome link after their account exists, kept secret and never logged", () => {
        const steps = resourcesOf(run, COMMAND).filter((c) => c.name.startsWith("family-welcome-"));
        assert.deepEqual(
            steps.map((c) => c.name),
            ["family-welcome-anna", "family-welcome-bo", "family-welcome-cecilia"],
        );
        const anna = resourceNamed(run, COMMAND, "family-welcome-anna").inputs;
        assert.match(String(anna.create), /welcome_link\("anna"\)/);
        // stderr only says why a link could not be made; stdout is the link.
        assert.equal(anna.logging, "stderr");
        assert.equal(anna.triggers, undefined, "a rebuilt server would end every member's link");
        const options = optionsOf(run, COMMAND, "family-welcome-anna");
        assert.ok(options.additionalSecretOutputs.includes("stdout"), "the link would be stored in clear");
        assert.deepEqual(options.dependsOn, ["family-account-anna"]);
    });

    it("gives one member a fresh link with README's command, naming that member's link step", () => {
        const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
        const documented = /^\s*pulumi up --replace '([^']+)'$/m.exec(readme)?.[1];
        assert.ok(documented, "README has no `pulumi up --replace '<urn>'` line");
        // README's example is the stack "family" and the member "erik"; the mocks' stack is "test".
        assert.match(documented, /^urn:pulumi:family::.*::family-welcome-erik$/);
        assert.equal(
            documented.replace(/^urn:pulumi:family::/, "urn:pulumi:test::").replace(/erik$/, "bo"),
            optionsOf(run, COMMAND, "family-welcome-bo").urn,
        );
    });

    it("makes the initial passwords 24 characters long", () => {
        assert.equal(
            resourceNamed(run, "random:index/randomPassword:RandomPassword", "family-password-anna").inputs
                .length,
            24,
        );
    });
});

describe("the family rooms", () => {
    it("follow the groups through the family file the files step writes", () => {
        const files = String(resourceNamed(run, COMMAND, "family-files").inputs.create);
        const familyFile = files.match(/write_file '\/etc\/prosody\/family\.json' [^\n]*\n([^']*?)FAMILY/);
        const family = JSON.parse(Buffer.from(familyFile?.[1] ?? "", "base64").toString("utf8"));
        assert.deepEqual(family.rooms, [
            {
                jid: "family@conference.family.test",
                name: "Family",
                affiliations: { "anna@family.test": "owner", "bo@family.test": "member" },
            },
            {
                jid: "friends@conference.family.test",
                name: "Friends",
                affiliations: { "anna@family.test": "owner", "cecilia@family.test": "member" },
            },
        ]);
    });

    it("need no step of their own", () => {
        assert.equal(resourcesOf(run, COMMAND).filter((c) => c.name === "family-rooms").length, 0);
    });
});

describe("calls", () => {
    it("get a secret that reaches the server only on the calls step's stdin, as a secret", () => {
        const step = resourceNamed(run, COMMAND, "family-calls").inputs;
        assert.equal(secretValue(step.stdin), "pwFamilyCallsSecret\n");
        const everythingElse = JSON.stringify(
            run.declared.filter((r) => r.name !== "family-calls" && r.name !== "family-calls-secret"),
        );
        assert.ok(!everythingElse.includes("pwFamilyCallsSecret"), "the secret appears outside its step");
    });

    it("get a 32-character secret of letters and digits", () => {
        const { inputs } = resourceNamed(
            run,
            "random:index/randomPassword:RandomPassword",
            "family-calls-secret",
        );
        assert.equal(inputs.length, 32);
        assert.equal(inputs.special, false);
    });

    it("are set up after the family files, again on a new server", () => {
        assert.deepEqual(optionsOf(run, COMMAND, "family-calls").dependsOn, ["family-files"]);
        assert.deepEqual(resourceNamed(run, COMMAND, "family-calls").inputs.triggers, [
            resourceNamed(run, SERVER, "family-server").id,
        ]);
    });

    it("rewrite coturn's config when the relay ports change, without a new secret", () => {
        const moved = runStack({ ...FAMILY, callRelayPorts: "60000-60099" });
        const before = resourceNamed(run, COMMAND, "family-calls").inputs;
        const after = resourceNamed(moved, COMMAND, "family-calls").inputs;
        assert.notEqual(after.create, before.create);
        assert.deepEqual(after.triggers, before.triggers);
        assert.equal(secretValue(after.stdin), secretValue(before.stdin));
    });

    it("keep coturn from relaying to the server's own primary IPv4 address and IPv6 network", () => {
        const userData = readCloudConfig(String(resourceNamed(run, SERVER, "family-server").inputs.userData));
        const firstBoot = userData.write_files.find((file) => file.path === "/etc/turnserver.conf")?.content;
        const step = String(resourceNamed(run, COMMAND, "family-calls").inputs.create);
        const encoded =
            /base64 -d <<'FAMILY_XMPP_FILE_END'\n([^]*?)FAMILY_XMPP_FILE_END/.exec(step)?.[1] ?? "";
        const calls = Buffer.from(encoded, "base64").toString("utf8");
        // The mocked primary IPs (tests/support/run-stack.ts): 203.0.113.10 and 2001:db8:10::/64.
        for (const config of [firstBoot ?? "", calls]) {
            assert.match(config, /^denied-peer-ip=203\.0\.113\.10$/m);
            assert.match(config, /^denied-peer-ip=2001:db8:10:0:0:0:0:0-2001:db8:10:0:ffff:ffff:ffff:ffff$/m);
        }
    });

    it("need no step, no secret and no coturn when turned off", () => {
        const without = runStack({ ...FAMILY, calls: false });
        assert.deepEqual(
            without.declared.filter((r) => r.name.startsWith("family-calls")),
            [],
        );
        const userData = String(resourceNamed(without, SERVER, "family-server").inputs.userData);
        assert.doesNotMatch(userData, /^ {2}- coturn$/m);
        assert.doesNotMatch(userData, /path: \/etc\/turnserver\.conf/);
    });
});

describe("Let's Encrypt certificates", () => {
    it(
        "come from a Cloudflare token the stack makes, " +
            "allowed only to read the family's zone and edit its DNS",
        () => {
            const { inputs } = resourceNamed(run, "cloudflare:index/apiToken:ApiToken", "family-acme-token");
            assert.deepEqual(inputs.policies, [
                {
                    effect: "allow",
                    permissionGroups: [{ id: "zone-read-group" }, { id: "dns-write-group" }],
                    resources: JSON.stringify({ "com.cloudflare.api.account.zone.zone-123": "*" }),
                },
            ]);
        },
    );

    it("reach the server only on the credentials step's stdin, as a secret", () => {
        const step = resourceNamed(run, COMMAND, "family-dns-credentials").inputs;
        assert.equal(secretValue(step.stdin), "cf-token-family-acme-token\n");
        const everythingElse = JSON.stringify(
            run.declared.filter(
                (r) => r.name !== "family-dns-credentials" && r.type !== "cloudflare:index/apiToken:ApiToken",
            ),
        );
        assert.ok(
            !everythingElse.includes("cf-token-family-acme-token"),
            "the token appears outside its step",
        );
    });

    it(
        "are asked for only after the DNS records (CAA included), " + "the credentials and the family files",
        () => {
            assert.deepEqual([...optionsOf(run, COMMAND, "family-certificate").dependsOn].sort(), [
                "family",
                "family-dns-credentials",
                "family-files",
            ]);
        },
    );

    it("cover the domain, the server, the rooms' host and the upload host in one certificate", () => {
        const create = String(resourceNamed(run, COMMAND, "family-certificate").inputs.create);
        assert.match(
            create,
            new RegExp(
                /-d 'family\.test' -d 'xmpp\.family\.test' /.source +
                    /-d 'conference\.family\.test' -d 'upload\.family\.test'/.source,
            ),
        );
        assert.match(create, /--authenticator dns-cloudflare/);
        assert.match(create, /^staging=false$/m);
    });

    it("use the contact address and Let's Encrypt's staging service when the config says so", () => {
        const trial = runStack({ ...FAMILY, acmeEmail: "anna@example.org", letsEncryptStaging: true });
        const create = String(resourceNamed(trial, COMMAND, "family-certificate").inputs.create);
        assert.match(create, /^contact='anna@example\.org'$/m);
        assert.match(create, /^staging=true$/m);
    });

    it("are requested again on a new server, which then imports the certificate kept on the volume", () => {
        assert.deepEqual(resourceNamed(run, COMMAND, "family-certificate").inputs.triggers, [
            resourceNamed(run, SERVER, "family-server").id,
        ]);
    });
});

describe("adding a member", () => {
    it("leaves every replacing input of the server as it was", () => {
        const before = resourceNamed(run, SERVER, "family-server").inputs;
        const after = resourceNamed(afterAddingDora, SERVER, "family-server").inputs;
        const { userData: userDataBefore, ...restBefore } = before;
        const { userData: userDataAfter, ...restAfter } = after;
        assert.deepEqual(restAfter, restBefore);
        // The user data does change, and the server ignores that change (see above).
        assert.notEqual(userDataAfter, userDataBefore);
    });

    it("adds exactly one account step and leaves the others untouched", () => {
        const accounts = (r: StackRun) =>
            resourcesOf(r, COMMAND).filter((c) => c.name.startsWith("family-account-"));
        assert.deepEqual(
            accounts(afterAddingDora).map((c) => c.name),
            ["family-account-anna", "family-account-bo", "family-account-cecilia", "family-account-dora"],
        );
        for (const account of accounts(run)) {
            assert.deepEqual(resourceNamed(afterAddingDora, COMMAND, account.name).inputs, account.inputs);
        }
    });

    it("adds a welcome link for the new member alone", () => {
        const links = (r: StackRun) =>
            resourcesOf(r, COMMAND).filter((c) => c.name.startsWith("family-welcome-"));
        assert.deepEqual(
            links(afterAddingDora).map((c) => c.name),
            ["family-welcome-anna", "family-welcome-bo", "family-welcome-cecilia", "family-welcome-dora"],
        );
        for (const link of links(run)) {
            assert.deepEqual(resourceNamed(afterAddingDora, COMMAND, link.name).inputs, link.inputs);
        }
    });

    it("updates the family files, putting the new member in her group", () => {
        const create = String(resourceNamed(afterAddingDora, COMMAND, "family-files").inputs.create);
        const groupsFile = new RegExp(
            /write_file '\/etc\/prosody\/family-groups\.txt' 'root:prosody' 0640 /.source +
                /<<'FAMILY_XMPP_FILE_END'\n([\s\S]*?)FAMILY_XMPP_FILE_END/.source,
        ).exec(create);
        assert.ok(groupsFile, "the files step does not write the groups file");
        assert.match(
            Buffer.from(groupsFile[1], "base64").toString("utf8"),
            /\[Family\]\nanna@family\.test=Anna\nbo@family\.test=Bo\ndora@family\.test=Dora\n/,
        );
    });
});

describe("the stack outputs", () => {
    it("give the host and the addresses", () => {
        assert.equal(run.outputs.host.value, "xmpp.family.test");
        assert.equal(run.outputs.ipv4.value, "203.0.113.10");
        assert.equal(run.outputs.ipv6.value, "2001:db8:10::1");
    });

    it("list each member's address and groups", () => {
        assert.deepEqual(run.outputs.members.value, [
            { jid: "anna@family.test", name: "Anna", admin: true, groups: ["Family", "Friends"] },
            { jid: "bo@family.test", name: "Bo", admin: false, groups: ["Family"] },
            { jid: "cecilia@family.test", name: "Cecilia", admin: false, groups: ["Friends"] },
        ]);
    });

    it("give the passwords as a secret", () => {
        assert.equal(run.outputs.passwords.secret, true);
        assert.deepEqual(Object.keys(run.outputs.passwords.value as object), [
            "anna@family.test",
            "bo@family.test",
            "cecilia@family.test",
        ]);
    });

    it("give each member's welcome link, as a secret", () => {
        assert.equal(run.outputs.welcomeLinks.secret, true);
        assert.deepEqual(run.outputs.welcomeLinks.value, {
            "anna@family.test": "https://xmpp.example/welcome?token-of-family-welcome-anna",
            "bo@family.test": "https://xmpp.example/welcome?token-of-family-welcome-bo",
            "cecilia@family.test": "https://xmpp.example/welcome?token-of-family-welcome-cecilia",
        });
    });

    it("give the DNS records and a zone file to paste elsewhere", () => {
        assert.equal((run.outputs.dnsRecords.value as unknown[]).length, 14);
        assert.match(
            String(run.outputs.zoneFile.value),
            /^_xmpp-client\._tcp\.family\.test\.\t3600\tIN\tSRV\t5 5 5222 xmpp\.family\.test\./m,
        );
    });
});

describe("a bad config", () => {
    it("stops the program before any resource, listing every problem without a stack trace", () => {
        const bad = runStack({
            domain: "Family.Test",
            members: [{ username: "Anna", name: "Anna" }],
            serverType: "huge",
        });
        assert.ok(bad.error, "the program did not fail");
        assert.equal(bad.error.runError, true, "not a RunError, so Pulumi would print a stack trace");
        assert.deepEqual(
            bad.declared.map((resource) => resource.type),
            ["pulumi:pulumi:Stack"],
        );
        assert.equal(
            bad.error.message,
            [
                "The family-xmpp config has 3 problems:",
                '  - family-xmpp:domain: "Family.Test" has uppercase letters; write "family.test"',
                '  - family-xmpp:members[0].username: "Anna" has uppercase letters; ' +
                    'XMPP usernames are case-insensitive, write "anna"',
                '  - family-xmpp:serverType: "huge" is not known. Choose one of: ' +
                    "cx23, cx33, cx43, cx53, cax11, cax21, cax31, cax41, " +
                    "cpx12, cpx22, cpx32, cpx42, cpx52, cpx62, " +
                    "ccx13, ccx23, ccx33, ccx43, ccx53, ccx63",
            ].join("\n"),
        );
    });
});
