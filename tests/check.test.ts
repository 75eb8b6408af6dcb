/**
 * `npm run check` against real servers: the local try-out server (Prosody and coturn from the
 * rendered files) and a real authoritative BIND serving the family's zone. Once with everything
 * right; once with a wrong record, an expired certificate and a closed port, each named.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CheckOptions, CheckReport } from "../check/report";
import { checkPortsOf, runCheck } from "../check/run-check";
import { DnsRecord, renderDnsRecords, renderZoneFile } from "../render/dns";
import { LocalServer, startLocalServer } from "../scripts/local-server";
import { AuthoritativeDns, startAuthoritativeDns } from "./support/authoritative-dns";
import { expiredCertificate } from "./support/expired-certificate";
import { familyModel } from "./support/families";
import { COTURN, missingTools, PROSODY } from "./support/tools";

const FAMILY = familyModel({
    domain: "family.test",
    members: [
        { username: "anna", name: "Anna", admin: true },
        { username: "bo", name: "Bo" },
    ],
    // The check asks the server how old the last backup is (none yet on a fresh server).
    backup: { repository: "sftp:u1@backup.family.test:family-xmpp" },
    backupSshKey: { secure: "v1:key" },
});
const ADDRESSES = { ipv4: "127.0.0.1", ipv6: "::1" };
// Every port below 32768: Linux gives outgoing connections local ports from 32768 up, and one of
// those once held the port this test's server wanted.
const PORT_SLOT = process.pid % 1000;
const DNS_PORT = 6353 + PORT_SLOT;
const RUN_AS_PROSODY = process.getuid?.() === 0 ? "runuser -u prosody -- " : "";
const WRONG_DNS_PORT = DNS_PORT + 1000;
/** The record the wrong zone gets wrong: the rooms' host at another address. */
const WRONG_NAME = "conference.family.test";

let stateDir: string;
let server: LocalServer;
let rightDns: AuthoritativeDns;
let wrongDns: AuthoritativeDns;

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    return port;
}

function options(overrides: Partial<CheckOptions> = {}): CheckOptions {
    return {
        model: FAMILY,
        addresses: ADDRESSES,
        host: "127.0.0.1",
        resolver: `127.0.0.1:${DNS_PORT}`,
        ports: checkPortsOf(server.listeners),
        credentials: { "anna@family.test": server.credentials["anna@family.test"] },
        extraCaCertificates: [server.caCertificate],
        ...overrides,
    };
}

const failures = (report: CheckReport) =>
    report.results.filter((r) => r.status === "fail").map((r) => `${r.name}: ${r.detail}`);

const missing = missingTools([PROSODY, COTURN, ["named", "bind9"], ["dig", "bind9-dnsutils"]]);

describe("the post-deploy check against a real server and a real BIND", { skip: missing }, () => {
    before(async () => {
        stateDir = mkdtempSync(join(tmpdir(), "family-xmpp-check-"));
        server = await startLocalServer({
            model: FAMILY,
            stateDir,
            portOffset: 5000 + PORT_SLOT,
        });
        const records = renderDnsRecords(FAMILY, ADDRESSES);
        rightDns = await startAuthoritativeDns(FAMILY.domain, renderZoneFile(records), DNS_PORT);
        const wrong = records.map((record): DnsRecord<string> =>
            record.name === WRONG_NAME && record.type === "A" ? { ...record, address: "127.0.0.2" } : record,
        );
        wrongDns = await startAuthoritativeDns(FAMILY.domain, renderZoneFile(wrong), WRONG_DNS_PORT);
    });

    after(async () => {
        rightDns?.stop();
        wrongDns?.stop();
        await server?.stop();
        if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    it("finds all right: every record, the certificate on each port, the ports, a login", async () => {
        const report = await runCheck(options());
        assert.deepEqual(failures(report), []);
        assert.equal(report.ok, true);
        const names = report.results.map((r) => r.name);
        const questions = new Set(renderDnsRecords(FAMILY, ADDRESSES).map((r) => `DNS ${r.name} ${r.type}`));
        assert.deepEqual(names.filter((name) => name.startsWith("DNS ")).sort(), [...questions].sort());
        const { c2sPort, c2sDirectTlsPort, httpsPort, turnPort } = server.listeners;
        for (const expected of [
            `certificate on ${c2sPort} (STARTTLS)`,
            `certificate on ${c2sDirectTlsPort} (direct TLS)`,
            `certificate on ${httpsPort} (HTTPS)`,
            `port ${turnPort}/udp (calls, STUN)`,
            "a member logs in",
            "the last good backup",
        ])
            assert.ok(names.includes(expected), `${expected} in ${names.join(", ")}`);
        assert.ok(
            report.results.every((r) => r.status === "ok"),
            JSON.stringify(report.results),
        );
        const login = report.results.find((r) => r.name === "a member logs in");
        assert.equal(login?.detail, "anna@family.test logged in");
    });

    it("names a refused login, and never sends a password without credentials", async () => {
        const wrong = await runCheck(options({ credentials: { "anna@family.test": "not-her-password" } }));
        assert.deepEqual(failures(wrong), ["a member logs in: the server refused anna@family.test"]);
        const none = await runCheck(options({ credentials: undefined }));
        assert.deepEqual(
            none.results.filter((r) => r.status !== "ok").map((r) => `${r.status} ${r.name}`),
            ["skip a member logs in", "skip the last good backup"],
        );
    });

    it("names a wrong record with what it should be, an expired certificate and a closed port", async () => {
        const expired = expiredCertificate(FAMILY, join(stateDir, "ca.crt"), join(stateDir, "ca.key"));
        try {
            // Renewals kept failing: the certificate Prosody has expires where it is.
            for (const [from, to] of [
                [expired.certificateFile, `${FAMILY.domain}.crt`],
                [expired.keyFile, `${FAMILY.domain}.key`],
            ])
                copyFileSync(from, join(server.paths.certificatesDir, to));
            spawnSync("chown", ["-R", "prosody:prosody", server.paths.certificatesDir]);
            const reload = spawnSync(
                "sh",
                ["-c", `${RUN_AS_PROSODY}prosodyctl --config ${server.paths.prosodyConfig} reload`],
                { encoding: "utf8" },
            );
            assert.equal(reload.status, 0, reload.stdout + reload.stderr);
            const closed = await closedPort();
            const base = options();
            const report = await runCheck({
                ...base,
                resolver: `127.0.0.1:${WRONG_DNS_PORT}`,
                ports: { ...base.ports, turns: closed },
            });
            assert.equal(report.ok, false);
            const { c2sPort, c2sDirectTlsPort, httpsPort } = server.listeners;
            assert.deepEqual(
                failures(report).sort(),
                [
                    `DNS ${WRONG_NAME} A: answers 127.0.0.2; should be 127.0.0.1`,
                    `certificate on ${c2sDirectTlsPort} (direct TLS): the certificate expired on 2020-02-01`,
                    `certificate on ${c2sPort} (STARTTLS): the certificate expired on 2020-02-01`,
                    `certificate on ${httpsPort} (HTTPS): the certificate expired on 2020-02-01`,
                    `port ${closed}/tcp (calls, TURN over TLS): does not answer (ECONNREFUSED)`,
                ].sort(),
            );
            const login = report.results.find((r) => r.name === "a member logs in");
            assert.equal(login?.status, "skip", "no password goes to a server whose certificate fails");
        } finally {
            expired.remove();
        }
    });

    it("runs as npm run check, with JSON for the pipeline and the exit code", async () => {
        const dir = mkdtempSync(join(tmpdir(), "check-cli-"));
        try {
            const config = join(dir, "Pulumi.family.yaml");
            writeFileSync(
                config,
                "config:\n  family-xmpp:domain: family.test\n  family-xmpp:members:\n" +
                    "    - {username: anna, name: Anna, admin: true}\n    - {username: bo, name: Bo}\n" +
                    "  family-xmpp:backup: false\n",
            );
            writeFileSync(join(dir, "outputs.json"), JSON.stringify({ ipv4: "127.0.0.1", ipv6: "::1" }));
            writeFileSync(join(dir, "ca.pem"), server.caCertificate);
            const ports = Object.entries(options().ports ?? {})
                .map(([key, port]) => `${key}=${port}`)
                .join(",");
            const result = spawnSync(
                process.execPath,
                [
                    "--import",
                    "tsx",
                    join(__dirname, "..", "scripts", "check.ts"),
                    "--stack-config",
                    config,
                    "--outputs",
                    join(dir, "outputs.json"),
                    "--resolver",
                    `127.0.0.1:${WRONG_DNS_PORT}`,
                    "--ports",
                    ports,
                    "--ca-file",
                    join(dir, "ca.pem"),
                    "--credentials",
                    "-",
                    "--json",
                ],
                {
                    cwd: join(__dirname, ".."),
                    encoding: "utf8",
                    input: JSON.stringify(options().credentials),
                },
            );
            assert.equal(result.status, 1, result.stderr);
            const report = JSON.parse(result.stdout) as CheckReport;
            assert.equal(report.ok, false);
            assert.ok(failures(report).some((line) => line.startsWith(`DNS ${WRONG_NAME} A`)));
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
