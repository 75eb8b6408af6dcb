/** Everything the family's domain publishes, and a real authoritative BIND serving it as declared. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FamilyModel } from "../model/family";
import { parseFamilyConfig } from "../model/validate";
import { DnsRecord, recordData, renderDnsRecords, renderZoneFile } from "../render/dns";
import { devFamily, familyModel } from "./support/families";
import { AuthoritativeDns, completeZoneFile, startAuthoritativeDns } from "./support/authoritative-dns";
import { hasTool } from "./support/tools";

const ADDRESSES = { ipv4: "203.0.113.10", ipv6: "2001:db8::1" };

function family(overrides: Record<string, unknown> = {}): FamilyModel {
    return familyModel({
        domain: "johansson.example",
        members: [{ username: "pappa", name: "Pappa" }],
        ...overrides,
    });
}

/** `name type data` lines, as easy to read in a failure as in a zone file. */
function lines(records: DnsRecord<string>[], type?: string): string[] {
    return records.filter((r) => !type || r.type === type).map((r) => `${r.name} ${r.type} ${recordData(r)}`);
}

describe("the XMPP records", () => {
    const records = renderDnsRecords(family(), ADDRESSES);

    it("point the server, the group chat host and the upload host at the server's addresses", () => {
        assert.deepEqual(
            [...lines(records, "A"), ...lines(records, "AAAA")],
            [
                "xmpp.johansson.example A 203.0.113.10",
                "conference.johansson.example A 203.0.113.10",
                "upload.johansson.example A 203.0.113.10",
                "xmpp.johansson.example AAAA 2001:db8::1",
                "conference.johansson.example AAAA 2001:db8::1",
                "upload.johansson.example AAAA 2001:db8::1",
            ],
        );
    });

    it(
        "offer direct TLS first and STARTTLS second, for apps and for other servers, " +
            "on the domain and the rooms' host",
        () => {
            assert.deepEqual(lines(records, "SRV"), [
                "_xmpps-client._tcp.johansson.example SRV 0 5 5223 xmpp.johansson.example.",
                "_xmpp-client._tcp.johansson.example SRV 5 5 5222 xmpp.johansson.example.",
                "_xmpps-server._tcp.johansson.example SRV 0 5 5270 xmpp.johansson.example.",
                "_xmpp-server._tcp.johansson.example SRV 5 5 5269 xmpp.johansson.example.",
                "_xmpps-server._tcp.conference.johansson.example SRV 0 5 5270 xmpp.johansson.example.",
                "_xmpp-server._tcp.conference.johansson.example SRV 5 5 5269 xmpp.johansson.example.",
            ]);
        },
    );

    it("target host names that have A/AAAA records, never a CNAME", () => {
        const addressed = new Set(records.filter((r) => r.type === "A").map((r) => r.name));
        const cnames = new Set(records.filter((r) => r.type === "CNAME").map((r) => r.name));
        for (const srv of records) {
            if (srv.type !== "SRV") continue;
            assert.ok(
                addressed.has(srv.target) && !cnames.has(srv.target),
                `${srv.name} targets ${srv.target}`,
            );
        }
    });

    it("say 'no service' for federation when it is switched off (RFC 6120)", () => {
        const closed = renderDnsRecords(family({ federation: false }), ADDRESSES);
        assert.deepEqual(
            lines(closed, "SRV").filter((line) => line.includes("server")),
            [
                "_xmpp-server._tcp.johansson.example SRV 0 0 0 .",
                "_xmpp-server._tcp.conference.johansson.example SRV 0 0 0 .",
            ],
        );
    });

    it("allow only Let's Encrypt to issue, and nobody wildcards", () => {
        assert.deepEqual(lines(records, "CAA"), [
            'johansson.example CAA 0 issue "letsencrypt.org"',
            'johansson.example CAA 0 issuewild ";"',
        ]);
    });

    it("add the CAs the family names, and wildcards only when allowed", () => {
        const open = renderDnsRecords(
            family({ extraCaaIssuers: ["pki.goog"], allowWildcardCertificates: true }),
            ADDRESSES,
        );
        assert.deepEqual(lines(open, "CAA"), [
            'johansson.example CAA 0 issue "letsencrypt.org"',
            'johansson.example CAA 0 issue "pki.goog"',
            'johansson.example CAA 0 issuewild "letsencrypt.org"',
            'johansson.example CAA 0 issuewild "pki.goog"',
        ]);
    });

    it("never touch the apex address, which stays the family's website's", () => {
        assert.ok(
            !records.some(
                (r) =>
                    r.name === "johansson.example" &&
                    (r.type === "A" || r.type === "AAAA" || r.type === "CNAME"),
            ),
        );
    });

    it("carry an explicit TTL", () => {
        assert.ok(records.every((r) => r.ttl === 3600));
    });
});

describe("the mail records", () => {
    it(
        "publish Migadu's preset: verification, MX, SPF, DKIM, DMARC, autoconfig " + "and RFC 6186 services",
        () => {
            const records = renderDnsRecords(
                family({ mail: { provider: "migadu", verification: "abcd1234" } }),
                ADDRESSES,
            );
            const mail = lines(records).filter(
                (line) => !/ (A|AAAA|CAA) /.test(line) && !line.includes("xmpp"),
            );
            assert.deepEqual(mail, [
                'johansson.example TXT "hosted-email-verify=abcd1234"',
                "johansson.example MX 10 aspmx1.migadu.com.",
                "johansson.example MX 20 aspmx2.migadu.com.",
                'johansson.example TXT "v=spf1 include:spf.migadu.com -all"',
                "key1._domainkey.johansson.example CNAME key1.johansson.example._domainkey.migadu.com.",
                "key2._domainkey.johansson.example CNAME key2.johansson.example._domainkey.migadu.com.",
                "key3._domainkey.johansson.example CNAME key3.johansson.example._domainkey.migadu.com.",
                '_dmarc.johansson.example TXT "v=DMARC1; p=quarantine;"',
                "autoconfig.johansson.example CNAME autoconfig.migadu.com.",
                "_autodiscover._tcp.johansson.example SRV 0 1 443 autodiscover.migadu.com.",
                "_submissions._tcp.johansson.example SRV 0 1 465 smtp.migadu.com.",
                "_imaps._tcp.johansson.example SRV 0 1 993 imap.migadu.com.",
                "_pop3s._tcp.johansson.example SRV 0 1 995 pop.migadu.com.",
            ]);
        },
    );

    it("take the DMARC policy from config", () => {
        const records = renderDnsRecords(
            family({ mail: { provider: "migadu", verification: "abcd1234", dmarcPolicy: "reject" } }),
            ADDRESSES,
        );
        assert.ok(lines(records, "TXT").includes('_dmarc.johansson.example TXT "v=DMARC1; p=reject;"'));
    });

    it(
        "publish a custom provider's MX hosts, one SPF record with its includes, " + "and its DKIM selectors",
        () => {
            const records = renderDnsRecords(
                family({
                    mail: {
                        provider: "custom",
                        mx: [
                            { host: "mx1.mail.example", priority: 10 },
                            { host: "mx2.mail.example", priority: 20 },
                        ],
                        spfIncludes: ["_spf.mail.example", "spf.newsletter.example"],
                        dkim: [{ selector: "s1", target: "s1.dkim.mail.example" }],
                    },
                }),
                ADDRESSES,
            );
            assert.deepEqual(
                lines(records).filter((line) => / (MX|TXT|CNAME) /.test(line)),
                [
                    "johansson.example MX 10 mx1.mail.example.",
                    "johansson.example MX 20 mx2.mail.example.",
                    'johansson.example TXT "v=spf1 include:_spf.mail.example ' +
                        'include:spf.newsletter.example -all"',
                    "s1._domainkey.johansson.example CNAME s1.dkim.mail.example.",
                    '_dmarc.johansson.example TXT "v=DMARC1; p=quarantine;"',
                ],
            );
            assert.equal(lines(records, "TXT").filter((line) => line.includes("v=spf1")).length, 1);
        },
    );
});

describe("mail config problems", () => {
    const problemsOf = (raw: Record<string, unknown>) => {
        const result = parseFamilyConfig({
            domain: "johansson.example",
            members: [{ username: "pappa", name: "Pappa" }],
            backup: false,
            ...raw,
        });
        assert.equal(result.ok, false);
        return result.ok ? [] : result.problems;
    };

    it("asks for Migadu's verification code", () => {
        assert.deepEqual(problemsOf({ mail: { provider: "migadu" } }), [
            {
                key: "family-xmpp:mail.verification",
                message:
                    "is required for Migadu: the code from Migadu's DNS setup page " +
                    "(the part after hosted-email-verify=)",
            },
        ]);
    });

    it("refuses to mix the Migadu preset with hand-written mail servers", () => {
        assert.equal(
            problemsOf({ mail: { provider: "migadu", verification: "abc", mx: [] } })[0].key,
            "family-xmpp:mail.mx",
        );
    });

    it("needs MX hosts for a custom provider, and proper host names", () => {
        assert.equal(problemsOf({ mail: { provider: "custom" } })[0].key, "family-xmpp:mail.mx");
        assert.equal(
            problemsOf({ mail: { provider: "custom", mx: [{ host: "mx_1.example", priority: 10 }] } })[0].key,
            "family-xmpp:mail.mx[0].host",
        );
    });

    it("rejects an unknown provider and DMARC policy", () => {
        const keys = problemsOf({
            mail: { provider: "gmail", dmarcPolicy: "strict", verification: "abc" },
        }).map((p) => p.key);
        assert.deepEqual(keys, ["family-xmpp:mail.provider", "family-xmpp:mail.dmarcPolicy"]);
    });

    it("refuses a host name that clashes with a name the stack publishes", () => {
        for (const hostname of [
            "conference.johansson.example",
            "upload.johansson.example",
            "autoconfig.johansson.example",
            "johansson.example",
        ]) {
            assert.equal(problemsOf({ hostname })[0].key, "family-xmpp:hostname", hostname);
        }
    });

    it("rejects a malformed ACME e-mail address", () => {
        assert.equal(problemsOf({ acmeEmail: "pappa at home" })[0].key, "family-xmpp:acmeEmail");
    });
});

describe("the zone from `npm run render`, served by a real authoritative BIND", () => {
    const records = renderDnsRecords(devFamily(), ADDRESSES);
    let renderedZone = "";
    let dir: string;
    let dns: AuthoritativeDns | undefined;
    const port = 25353 + (process.pid % 1000);
    const dig = (name: string, type: string) =>
        spawnSync("dig", ["@127.0.0.1", "-p", String(port), "+short", "+norecurse", name, type], {
            encoding: "utf8",
        })
            .stdout.trim()
            .split("\n")
            .filter(Boolean)
            .sort();

    before(async () => {
        dir = mkdtempSync(join(tmpdir(), "named-"));
        chmodSync(dir, 0o755);
        const out = join(dir, "rendered");
        const render = spawnSync(
            process.execPath,
            [
                "--import",
                "tsx",
                join(__dirname, "..", "scripts", "render.ts"),
                "--stack-config",
                join(__dirname, "..", "Pulumi.dev.yaml"),
                "--out",
                out,
                "--ipv4",
                ADDRESSES.ipv4,
                "--ipv6",
                ADDRESSES.ipv6,
            ],
            { encoding: "utf8" },
        );
        assert.equal(render.status, 0, render.stderr);
        renderedZone = readFileSync(join(out, "dns.zone"), "utf8");
        writeFileSync(join(dir, "db.johansson.example"), completeZoneFile("johansson.example", renderedZone));
        if (spawnSync("sh", ["-c", "command -v named && command -v dig"], { stdio: "ignore" }).status !== 0)
            return;
        dns = await startAuthoritativeDns("johansson.example", renderedZone, port);
    });

    after(() => {
        dns?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("matches the reviewed golden zone file", () => {
        const file = join(__dirname, "golden", "dns.zone");
        if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, renderedZone);
        assert.equal(renderedZone, readFileSync(file, "utf8"));
        assert.equal(renderedZone, renderZoneFile(records));
    });

    it("is accepted by named-checkzone", (t) => {
        if (!hasTool(t, "named-checkzone", "bind9-utils")) return;
        const result = spawnSync(
            "named-checkzone",
            ["johansson.example", join(dir, "db.johansson.example")],
            { encoding: "utf8" },
        );
        assert.equal(result.status, 0, result.stdout + result.stderr);
    });

    it("answers every name and type exactly with what the stack declares", (t) => {
        if (!hasTool(t, "named", "bind9") || !hasTool(t, "dig", "bind9-dnsutils")) return;
        const byQuestion = new Map<string, string[]>();
        for (const record of records) {
            const question = `${record.name} ${record.type}`;
            byQuestion.set(question, [...(byQuestion.get(question) ?? []), recordData(record)]);
        }
        assert.ok(byQuestion.size > 20, "the example family publishes the whole record set");
        for (const [question, expected] of byQuestion) {
            const [name, type] = question.split(" ");
            assert.deepEqual(dig(name, type), [...expected].sort(), question);
        }
    });
});
