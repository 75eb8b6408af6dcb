/**
 * Voice and video calls on the real servers: Prosody (Debian's) hands a member STUN/TURN services
 * with credentials (XEP-0215), and coturn (Debian's), started from the rendered config with the
 * secret delivered by the very script the provisioning step runs, relays a call with them.
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { relayQuotas, renderSyncCallSecret } from "../render/calls";
import { renderImportHook } from "../render/certificates";
import { shellWord } from "../render/template";
import { LocalServer, startLocalServer } from "../scripts/local-server";
import { COTURN, missingTools, PROSODY } from "./support/tools";
import { familyModel } from "./support/families";
import { renewedCertificate } from "./support/renewal";
import { ExternalService, externalServices, RELAY_MESSAGES, relayThrough, turnService } from "./support/turn";
import { allocate, AllocationResult } from "./support/turn-client";
import { TurnLab } from "./support/turn-lab";
import { login, Session } from "./support/xmpp";

const FAMILY = familyModel({
    domain: "calls.test",
    members: [
        { username: "anna", name: "Anna", admin: true },
        { username: "bo", name: "Bo" },
        { username: "cai", name: "Cai" },
    ],
});
const HOSTNAME = FAMILY.hostname;

const missing = missingTools([PROSODY, COTURN, ["ip", "iproute2"]], TurnLab.possible());

describe("calls through the family's TURN server", { skip: missing }, () => {
    const lab = new TurnLab();
    let server: LocalServer;
    let stateDir: string;
    let anna: Session;
    let services: ExternalService[];
    let peer: ChildProcess;

    before(async () => {
        lab.up();
        peer = spawn("turnutils_peer", ["-L", lab.peerAddress, "-p", "3480"], { stdio: "ignore" });
        stateDir = mkdtempSync(join(tmpdir(), "family-xmpp-calls-"));
        server = await startLocalServer({
            model: FAMILY,
            stateDir,
            // Below 32768, where Linux starts the local ports of outgoing connections.
            portOffset: 24000 + (process.pid % 2000),
            turn: { address: lab.serverAddress, netns: lab.namespace },
        });
        setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
        anna = await login(server, `anna@${FAMILY.domain}`);
        services = await externalServices(anna, FAMILY.domain);
    });

    after(async () => {
        await anna?.stop();
        await server?.stop();
        peer?.kill();
        lab.down();
        rmSync(stateDir, { recursive: true, force: true });
    });

    const turn = (transport: "udp" | "tcp") => turnService(services, transport);

    it(
        "offers a member STUN, TURN over UDP and TCP, " +
            "and TURN over TLS on the server's host name (XEP-0215)",
        () => {
            const { turnPort, turnsPort } = server.listeners;
            assert.deepEqual(
                services
                    .map(({ type, transport, host, port }) => `${type}:${transport} ${host}:${port}`)
                    .sort(),
                [
                    `stun:tcp ${HOSTNAME}:${turnPort}`,
                    `stun:udp ${HOSTNAME}:${turnPort}`,
                    `turn:tcp ${HOSTNAME}:${turnPort}`,
                    `turn:udp ${HOSTNAME}:${turnPort}`,
                    `turns:tcp ${HOSTNAME}:${turnsPort}`,
                ],
            );
        },
    );

    it("gives TURN credentials that expire in a day", () => {
        const { username, password, expires } = turn("udp");
        // "<expiry>:<member>", the TURN REST API form (see mod_family_xmpp_calls).
        assert.match(username ?? "", /^\d{10}:[0-9a-f]{16}$/);
        assert.ok((password ?? "").length > 20, "a password derived from the shared secret");
        const hoursLeft = (Date.parse(expires ?? "") - Date.now()) / 3_600_000;
        assert.ok(hoursLeft > 23.9 && hoursLeft <= 24, `expires in ${hoursLeft} h`);
    });

    it("relays a call over UDP with those credentials (coturn's turnutils_uclient)", async () => {
        const { username = "", password = "" } = turn("udp");
        const result = await relayThrough({
            server: lab.serverAddress,
            port: server.listeners.turnPort,
            transport: "udp",
            username,
            password,
            peer: lab.peerAddress,
        });
        assert.equal(result.echoed, RELAY_MESSAGES, result.output);
    });

    it("relays a call over TCP, for networks that block UDP", async () => {
        const { username = "", password = "" } = turn("tcp");
        const result = await relayThrough({
            server: lab.serverAddress,
            port: server.listeners.turnPort,
            transport: "tcp",
            username,
            password,
            peer: lab.peerAddress,
        });
        assert.equal(result.echoed, RELAY_MESSAGES, result.output);
    });

    it(
        "relays a call over TLS with the family's certificate, " + "for networks that let only TLS through",
        async () => {
            const { username = "", password = "" } = turn("tcp");
            const result = await relayThrough({
                server: lab.serverAddress,
                port: server.listeners.turnsPort,
                transport: "tls",
                username,
                password,
                peer: lab.peerAddress,
                caFile: join(stateDir, "ca.crt"),
                tlsName: HOSTNAME,
            });
            assert.equal(result.echoed, RELAY_MESSAGES, result.output);
        },
    );

    it("refuses credentials that were not made from the family's secret", async () => {
        const { username = "" } = turn("udp");
        const result = await relayThrough({
            server: lab.serverAddress,
            port: server.listeners.turnPort,
            transport: "udp",
            username,
            password: "bm90IHRoZSBzZWNyZXQ=",
            peer: lab.peerAddress,
        });
        assert.equal(result.echoed, 0);
        assert.match(result.output, /Cannot complete Allocation/);
    });

    it(
        "never relays into private, loopback or link-local networks " + "(the cloud's metadata service)",
        async () => {
            const { username = "", password = "" } = turn("udp");
            for (const peerAddress of ["127.0.0.1", "10.0.0.2", "192.168.1.1", "169.254.169.254"]) {
                const result = await relayThrough({
                    server: lab.serverAddress,
                    port: server.listeners.turnPort,
                    transport: "udp",
                    username,
                    password,
                    peer: peerAddress,
                });
                assert.equal(result.echoed, 0, `relayed to ${peerAddress}`);
                assert.match(result.output, /403 \(Forbidden IP\)/, peerAddress);
            }
        },
    );

    it("never relays to the server's own address, nor to documentation addresses", async () => {
        const { username = "", password = "" } = turn("udp");
        for (const peerAddress of [lab.serverAddress, "192.0.2.7", "198.51.100.7", "203.0.113.7"]) {
            const result = await relayThrough({
                server: lab.serverAddress,
                port: server.listeners.turnPort,
                transport: "udp",
                username,
                password,
                peer: peerAddress,
            });
            assert.equal(result.echoed, 0, `relayed to ${peerAddress}`);
            assert.match(result.output, /403 \(Forbidden IP\)/, peerAddress);
        }
    });

    it(
        "refuses TCP relays (RFC 6062): " + "a member's credentials open no TCP connections from the server",
        async () => {
            const { username = "", password = "" } = turn("tcp");
            const result = await relayThrough({
                server: lab.serverAddress,
                port: server.listeners.turnPort,
                transport: "tcp",
                tcpRelay: true,
                username,
                password,
                peer: lab.peerAddress,
            });
            assert.equal(result.echoed, 0, result.output);
            assert.match(result.output, /442|Unsupported Transport/, result.output);
        },
    );

    it("names the member in every TURN username, the same member in every credential", async () => {
        const again = await externalServices(anna, FAMILY.domain);
        const bo = await login(server, `bo@${FAMILY.domain}`, undefined, "credentials");
        const boServices = await externalServices(bo, FAMILY.domain);
        await bo.stop();
        const member = (services: ExternalService[]) =>
            /^\d+:([0-9a-f]{16})$/.exec(turnService(services, "udp").username ?? "")?.[1];
        assert.ok(member(services), turnService(services, "udp").username);
        assert.equal(member(again), member(services));
        assert.notEqual(member(boServices), member(services));
    });

    it(
        "keeps a quarter of the relay ports for each member: " + "one member's apps cannot starve the others",
        async () => {
            const { total, perMember } = relayQuotas(FAMILY.calls?.relayPorts ?? { min: 0, max: -1 });
            assert.deepEqual([total, perMember], [256, 64]);
            // Cai's apps run away; Bo wants to call. Neither has a relay yet.
            const cai = await login(server, `cai@${FAMILY.domain}`, undefined, "runaway");
            const bo = await login(server, `bo@${FAMILY.domain}`, undefined, "call");
            const credentialsOf = (services: ExternalService[]) => {
                const { username = "", password = "" } = turnService(services, "udp");
                return { server: lab.serverAddress, port: server.listeners.turnPort, username, password };
            };
            const caiServices = await externalServices(cai, FAMILY.domain);
            const held: AllocationResult[] = [];
            try {
                for (let count = 0; count < perMember + 6; count++)
                    held.push(await allocate(credentialsOf(caiServices)));
                assert.deepEqual(
                    held.map((allocation) => allocation.code),
                    [...Array(perMember).fill(200), ...Array(6).fill(486)],
                );
                // Fresh credentials (a new expiry, so a new username) do not reset the member's count.
                await new Promise((done) => setTimeout(done, 1100));
                const fresh = await externalServices(cai, FAMILY.domain);
                assert.notEqual(turnService(fresh, "udp").username, turnService(caiServices, "udp").username);
                held.push(await allocate(credentialsOf(fresh)));
                assert.equal(held[held.length - 1].code, 486);
                held.push(await allocate(credentialsOf(await externalServices(bo, FAMILY.domain))));
                assert.equal(held[held.length - 1].code, 200, "Bo gets no relay");
            } finally {
                for (const allocation of held) if ("release" in allocation) await allocation.release();
                await Promise.all([cai.stop(), bo.stop()]);
            }
        },
    );

    it("changes nothing and restarts nothing when the calls step runs again with the same secret", () => {
        const rerun = spawnSync(
            "sh",
            [
                "-c",
                renderSyncCallSecret(FAMILY, server.addresses, {
                    ...server.host,
                    commands: {
                        ...server.host.commands,
                        restartTurn: "echo 'coturn restarted'",
                        installTurn: "echo 'coturn installed'",
                    },
                }),
            ],
            { input: `${readFileSync(join(stateDir, "calls-secret"), "utf8").trim()}\n`, encoding: "utf8" },
        );
        assert.equal(rerun.status, 0, rerun.stderr);
        assert.equal(rerun.stdout, "family-xmpp: the calls secret is in place\n");
    });

    it("gives coturn and Prosody the same secret, in files other users cannot read", () => {
        const secret = readFileSync(join(stateDir, "calls-secret"), "utf8").trim();
        const prosodyCopy = join(server.paths.prosodySecretsDir, "calls.cfg.lua");
        assert.ok(readFileSync(server.paths.turnConfig, "utf8").endsWith(`\nstatic-auth-secret=${secret}\n`));
        assert.equal(readFileSync(prosodyCopy, "utf8"), `turn_external_secret = "${secret}"\n`);
        assert.equal(statSync(server.paths.turnConfig).mode & 0o777, 0o640);
        assert.equal(statSync(prosodyCopy).mode & 0o777, 0o640);
    });

    it(
        "serves a renewed certificate for TURN over TLS after certbot's deploy hook, " + "without a restart",
        async () => {
            const renewal = renewedCertificate(FAMILY);
            const hook = renderImportHook(FAMILY, {
                ...server.host,
                paths: { ...server.host.paths, letsEncryptLive: renewal.liveDir },
                commands: {
                    ...server.host.commands,
                    // What systemd's `kill --signal=USR2` does on the VPS.
                    reloadTurnCertificate:
                        "pkill -USR2 -x -f " +
                        `${shellWord(`turnserver -c ${server.paths.turnConfig} --pidfile=`)}`,
                },
            });
            const hookRun = spawnSync("sh", ["-c", hook], { encoding: "utf8" });
            assert.equal(hookRun.status, 0, hookRun.stdout + hookRun.stderr);
            await new Promise((done) => setTimeout(done, 500));

            const { username = "", password = "" } = turn("tcp");
            const attempt = {
                server: lab.serverAddress,
                port: server.listeners.turnsPort,
                transport: "tls" as const,
                username,
                password,
                peer: lab.peerAddress,
                tlsName: HOSTNAME,
            };
            assert.equal(
                (await relayThrough({ ...attempt, caFile: renewal.caFile })).echoed,
                RELAY_MESSAGES,
                "the renewed certificate",
            );
            assert.equal(
                (await relayThrough({ ...attempt, caFile: join(stateDir, "ca.crt") })).echoed,
                0,
                "the old certificate is still served",
            );
            renewal.remove();
        },
    );
});
