/**
 * Federation for real: two families rendered by this stack from two stack configs, a third with
 * federation off, Debian's Prosody and Debian 12's ejabberd 23.01 with their packaged configs, a
 * push service and two servers with certificates nobody should accept, each in a network namespace
 * of its own, finding each other only through the SRV records of one authoritative BIND, with
 * certificates issued as Let's Encrypt issues them since February 2026 (ECDSA, serverAuth only).
 * Members and friends are real XMPP clients (@xmpp/client).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { Element, xml } from "@xmpp/client";
import { applyFamilyLua } from "../../render/provisioning";
import { renderFamilyFiles } from "../../render/server-files";
import { LocalServer } from "../../scripts/local-server";
import { httpsAt } from "../support/https";
import { missingTools, PROSODY } from "../support/tools";
import { Session } from "../support/xmpp";
import { createInstantRoom, deliver, Delivery, invite, refusal } from "./conversation";
import { FederationLab } from "./lab";
import { ODD_DIALBACK_SECRET } from "./other-servers";
import { dialbackKey, RawServerStream } from "./raw-s2s";
import { Route, routeOf, s2sConnections } from "./s2s";
import { buildWorld, loginThroughDns, PUSH_SERVICE_USER, World } from "./world";

const skipReason = missingTools(
    [PROSODY, ["ejabberdctl", "ejabberd"], ["named", "bind9"], ["ip", "iproute2"]],
    process.getuid?.() === 0 ? undefined : "the federation lab needs root (network namespaces)",
);

/** The upstream version of an installed Debian package ("23.01" of "23.01-1"). */
function installedVersion(debianPackage: string): string {
    const version = spawnSync("dpkg-query", ["-W", "-f=${Version}", debianPackage], {
        encoding: "utf8",
    }).stdout;
    return version.replace(/^\d+:/, "").replace(/-[^-]*$/, "");
}

/** What each server of the lab is, for the matrix. */
const KINDS: Readonly<Record<string, string>> = {
    "johansson.test": "this stack",
    "dow.family.test": "this stack, own host name and zone",
    "larsson.test": "this stack, federation off",
    "jabber.test": `Prosody ${installedVersion("prosody")}, Debian's config`,
    "ejabberd.test": `ejabberd ${installedVersion("ejabberd")}, Debian's config`,
    "nodialback.test": `ejabberd ${installedVersion("ejabberd")}, dialback off`,
    "selfsigned.test": "self-signed certificate",
    "wrongname.test": "certificate for another name",
    "push.apps.test": "an app's push service",
};

interface MatrixRow {
    readonly from: string;
    readonly to: string;
    readonly outcome: string;
    readonly tls: string;
    readonly authentication: string;
}

const matrix: MatrixRow[] = [];
let lab: FederationLab;
let world: World;
const sessions = new Map<string, Session>();

/** The family server of a domain of the lab. */
function familyOf(domain: string): LocalServer {
    const families = [world.johansson, world.dow, world.larsson];
    const found = families.find((server) => server.model.domain === domain);
    if (!found) throw new Error(`${domain} is not a family of the lab`);
    return found;
}

/** The password of any account in the lab. */
function passwordOf(jid: string): string {
    const { johansson, dow, larsson, jabber, ejabberd, elsewhere } = world;
    const all = [johansson, dow, larsson, jabber, ejabberd, elsewhere].map((server) => server.credentials);
    return Object.assign({}, ...all)[jid];
}

/** The session of `jid` (logged in once, through the lab's DNS). */
async function as(jid: string, resource = "test"): Promise<Session> {
    const key = `${jid}/${resource}`;
    const existing = sessions.get(key);
    if (existing) return existing;
    const session = await loginThroughDns(lab, jid, passwordOf(jid), resource);
    sessions.set(key, session);
    return session;
}

function outcome(delivery: Delivery): string {
    return delivery.delivered ? "delivered" : `refused: the sender gets ${delivery.error.split(":")[0]}`;
}

/** A row of the matrix; a refusal names why instead of a route. */
function recordRow(from: string, to: string, result: string, route: Route | string): void {
    const { tls, authentication } = typeof route === "string" ? { tls: "—", authentication: route } : route;
    matrix.push({ from, to, outcome: result, tls, authentication });
}

function renderMatrix(): string {
    const label = (domain: string) => `${domain} (${KINDS[domain]})`;
    return [
        "| from | to | message | connection | how the sending server proved who it is |",
        "| --- | --- | --- | --- | --- |",
        ...matrix.map(
            (row) =>
                `| ${label(row.from)} | ${label(row.to)} | ${row.outcome} | ${row.tls} | ` +
                `${row.authentication} |`,
        ),
    ].join("\n");
}

describe(
    "federation through real DNS, today's certificates and servers this project did not configure",
    { skip: skipReason, timeout: 170_000 },
    () => {
        before(async () => {
            lab = new FederationLab();
            const stopOnSignal = () => void lab.down().then(() => process.exit(1));
            process.once("SIGINT", stopOnSignal);
            process.once("SIGTERM", stopOnSignal);
            world = await buildWorld(lab);
            setDefaultCACertificates([
                ...getCACertificates("default"),
                readFileSync(lab.certificateAuthority.certificateFile, "utf8"),
            ]);
        });

        after(async () => {
            await Promise.allSettled([...sessions.values()].map((session) => session.stop()));
            await Promise.allSettled(
                [world?.johansson, world?.dow, world?.larsson].map((family) => family?.stop()),
            );
            await lab?.down();
            const leftovers = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
            assert.doesNotMatch(
                leftovers,
                new RegExp(`fxfed${lab?.id}-`),
                "a namespace of the lab outlived it",
            );
        });

        it(
            "serves each family exactly the zone `npm run render` exports, and servers find " +
                "each other by SRV only",
            async () => {
                const stacks = ["johansson", "dow", "larsson"] as const;
                await Promise.all(
                    stacks.map(async (stack) => {
                        const out = join(lab.dir, `render-${stack}`);
                        const { ipv4, ipv6 } = world.zoneAddresses[stack];
                        const render = await run(process.execPath, [
                            "--import",
                            "tsx",
                            join(__dirname, "..", "..", "scripts", "render.ts"),
                            "--stack-config",
                            join(__dirname, "stacks", `${stack}.yaml`),
                            "--out",
                            out,
                            "--ipv4",
                            ipv4,
                            "--ipv6",
                            ipv6,
                        ]);
                        assert.equal(render.status, 0, render.output);
                        const zone = world[stack].model.dnsZone;
                        const exported = readFileSync(join(out, "dns.zone"), "utf8");
                        const served = readFileSync(join(lab.dir, "dns", `db.${zone}`), "utf8");
                        assert.ok(served.endsWith(`\n${exported}`), `the lab serves ${zone} as rendered`);
                    }),
                );
                // Direct TLS first, the host name from the config, and no address on the bare domain.
                assert.deepEqual(await lab.resolver.resolveSrv("_xmpps-server._tcp.dow.family.test"), [
                    { name: "chat.family.test", port: 5270, priority: 0, weight: 5 },
                ]);
                await assert.rejects(lab.resolver.resolve4("dow.family.test"), /ENODATA|ENOTFOUND/);
                await assert.rejects(lab.resolver.resolve4("johansson.test"), /ENODATA|ENOTFOUND/);
            },
        );

        it(
            "delivers messages each way between the families and the other servers, and says " +
                "how each server was authenticated",
            async () => {
                const pairs: [string, string][] = [
                    ["pappa@johansson.test", "john@dow.family.test"],
                    ["pappa@johansson.test", "maria@jabber.test"],
                    ["pappa@johansson.test", "erik@ejabberd.test"],
                    ["john@dow.family.test", "maria@jabber.test"],
                    ["john@dow.family.test", "erik@ejabberd.test"],
                ];
                for (const [member, friend] of pairs) {
                    const [a, b] = [await as(member), await as(friend)];
                    const there = await deliver(a, b);
                    const back = await deliver(b, a);
                    assert.deepEqual(
                        [there, back],
                        [{ delivered: true }, { delivered: true }],
                        `${member} and ${friend}`,
                    );
                    const [from, to] = [member.split("@")[1], friend.split("@")[1]];
                    const connections = s2sConnections(familyOf(from));
                    recordRow(from, to, outcome(there), routeOf(connections, from, to));
                    recordRow(to, from, outcome(back), routeOf(connections, to, from));
                }
                const row = (from: string, to: string) =>
                    matrix.find((r) => r.from === from && r.to === to)?.authentication;
                // Today's certificates: ejabberd 23.01 refuses SASL EXTERNAL with a certificate that lacks
                // clientAuth, and Prosody proves the family's identity by dialback instead.
                assert.equal(row("johansson.test", "ejabberd.test"), "dialback");
                assert.equal(row("ejabberd.test", "johansson.test"), "certificate (SASL EXTERNAL)");
                assert.match(
                    readFileSync(world.ejabberd.logFile, "utf8"),
                    new RegExp(
                        "Failed inbound s2s EXTERNAL authentication johansson\\.test -> ejabberd\\.test " +
                            ".*unsupported certificate purpose",
                    ),
                );
            },
        );

        it(
            "cannot reach an ejabberd 23.01 without dialback, tells the sender so, and still " +
                "hears from it",
            async () => {
                for (const member of ["pappa@johansson.test", "john@dow.family.test"]) {
                    const [a, nils] = [await as(member), await as("nils@nodialback.test")];
                    const there = await deliver(a, nils);
                    assert.deepEqual(there, {
                        delivered: false,
                        error: "remote-server-timeout: Server-to-server connection failed: not-authorized",
                    });
                    const back = await deliver(nils, a);
                    assert.deepEqual(back, { delivered: true });
                    const from = member.split("@")[1];
                    const connections = s2sConnections(familyOf(from));
                    recordRow(
                        from,
                        "nodialback.test",
                        outcome(there),
                        "none: it refuses the certificate and offers no dialback",
                    );
                    recordRow(
                        "nodialback.test",
                        from,
                        outcome(back),
                        routeOf(connections, "nodialback.test", from),
                    );
                }
            },
        );

        it(
            "lets a member add a friend elsewhere: both accept, both see each other online, " +
                "and the family group stays as it was",
            async () => {
                const pappa = await as("pappa@johansson.test");
                const eva = await as("eva@ejabberd.test");
                const familyBefore = (await pappa.roster()).filter((item) => item.groups.includes("Family"));
                await pappa.xmpp.iqCaller.request(
                    xml(
                        "iq",
                        { type: "set" },
                        xml(
                            "query",
                            { xmlns: "jabber:iq:roster" },
                            xml("item", { jid: eva.jid, name: "Eva" }),
                        ),
                    ),
                );
                await pappa.xmpp.send(xml("presence", { to: eva.jid, type: "subscribe" }));
                await eva.waitFor(
                    (s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === pappa.jid,
                    "Pappa's request",
                    15_000,
                );
                await eva.xmpp.send(xml("presence", { to: pappa.jid, type: "subscribed" }));
                await eva.xmpp.send(xml("presence", { to: pappa.jid, type: "subscribe" }));
                await pappa.waitFor(
                    (s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === eva.jid,
                    "Eva's request",
                    15_000,
                );
                await pappa.xmpp.send(xml("presence", { to: eva.jid, type: "subscribed" }));
                const online = (from: Session) => (s: Element) =>
                    s.is("presence") && !s.attrs.type && (s.attrs.from ?? "").startsWith(`${from.jid}/`);
                await pappa.waitFor(online(eva), "Eva online", 15_000);
                await eva.waitFor(online(pappa), "Pappa online", 15_000);
                const roster = await pappa.roster();
                assert.deepEqual(
                    roster.find((item) => item.jid === eva.jid),
                    { jid: eva.jid, name: "Eva", subscription: "both", groups: [] },
                );
                assert.deepEqual(
                    roster.filter((item) => item.groups.includes("Family")),
                    familyBefore,
                );
                assert.ok(familyBefore.some((item) => item.jid === "mattias@johansson.test"));
            },
        );

        it(
            "lets a member join a friend's room elsewhere, and a friend join a member's own " +
                "room, but not the family's",
            async () => {
                const [pappa, erik, maria] = [
                    await as("pappa@johansson.test"),
                    await as("erik@ejabberd.test"),
                    await as("maria@jabber.test"),
                ];
                const eriksRoom = `fika-${lab.id}@conference.ejabberd.test`;
                await createInstantRoom(erik, eriksRoom, "Erik");
                assert.equal(
                    refusal(await pappa.joinRoom(eriksRoom, "Pappa")),
                    undefined,
                    "Pappa in Erik's room",
                );

                const pappasRoom = `grill-${lab.id}@conference.johansson.test`;
                await createInstantRoom(pappa, pappasRoom, "Pappa");
                assert.equal(
                    refusal(await maria.joinRoom(pappasRoom, "Maria")),
                    "registration-required",
                    "a members-only room before the invitation",
                );
                await invite(pappa, pappasRoom, maria.jid);
                await maria.waitFor(
                    (s) =>
                        s.is("message") &&
                        s.attrs.from === pappasRoom &&
                        !!s.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("invite"),
                    "the invitation",
                    15_000,
                );
                assert.equal(
                    refusal(await maria.joinRoom(pappasRoom, "Maria2")),
                    undefined,
                    "Maria in Pappa's room after the invitation",
                );

                const familyRoom = "family@conference.johansson.test";
                assert.match(
                    refusal(await maria.joinRoom(familyRoom, "Maria3")) ?? "",
                    /^registration-required/,
                );
                assert.match(
                    refusal(await erik.joinRoom(familyRoom, "Erik")) ?? "",
                    /^registration-required/,
                );
            },
        );

        it(
            "lets a friend elsewhere fetch a file a member shared, from the family's file " +
                "host over HTTPS, found through DNS",
            async () => {
                const [pappa, maria] = [await as("pappa@johansson.test"), await as("maria@jabber.test")];
                const photo = randomBytes(50_000);
                const slot = await pappa.xmpp.iqCaller.request(
                    xml(
                        "iq",
                        { type: "get", to: "upload.johansson.test" },
                        xml("request", {
                            xmlns: "urn:xmpp:http:upload:0",
                            filename: "kräftskiva.jpg",
                            size: String(photo.length),
                            "content-type": "image/jpeg",
                        }),
                    ),
                );
                const put = slot.getChild("slot")?.getChild("put");
                const get = slot.getChild("slot")?.getChild("get")?.attrs.url ?? "";
                assert.match(get, /^https:\/\/upload\.johansson\.test\/file_share\//);
                const headers = Object.fromEntries(
                    (put?.getChildren("header") ?? []).map((h) => [h.attrs.name ?? "", h.text()]),
                );
                const [uploadAddress] = await lab.resolver.resolve4("upload.johansson.test");
                const uploaded = await httpsAt(uploadAddress, put?.attrs.url ?? "", "PUT", photo, {
                    "content-type": "image/jpeg",
                    ...headers,
                });
                assert.equal(uploaded.status, 201);
                await pappa.xmpp.send(
                    xml(
                        "message",
                        { to: maria.jid, type: "chat" },
                        xml("body", {}, get),
                        xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, get)),
                    ),
                );
                const received = await maria.waitFor(
                    (s) => s.is("message") && s.getChildText("body") === get,
                    "the link",
                    15_000,
                );
                const url = new URL(received.getChild("x", "jabber:x:oob")?.getChildText("url") ?? "");
                const [address] = await lab.resolver.resolve4(url.hostname);
                const fetched = await httpsAt(address, url.href, "GET");
                assert.equal(fetched.status, 200);
                assert.ok(fetched.body.equals(photo), "the friend got another file");
            },
        );

        it("refuses servers with a self-signed or wrong-name certificate in both directions", async () => {
            const pappa = await as("pappa@johansson.test");
            for (const [domain, reason] of [
                ["selfsigned.test", "is self-signed"],
                ["wrongname.test", "is not valid for this name"],
            ] as const) {
                const there = await deliver(pappa, `eve@${domain}`);
                assert.equal(there.delivered, false, `a message to ${domain}`);
                recordRow("johansson.test", domain, outcome(there), `none: its certificate ${reason}`);
                const ping = world.elsewhere.shell(`xmpp:ping("${domain}", "johansson.test", 10)`);
                assert.doesNotMatch(ping, /pong from/, `${domain} pinging the family`);
                // The family's own log, for the connection it opened and for the one it was offered.
                const log = readFileSync(world.johansson.paths.logFile, "utf8");
                for (const direction of ["s2sout", "s2sin"]) {
                    const refused =
                        `${direction}\\w+\twarn\tForbidding insecure connection to/from ` +
                        `${domain.replace(".", "\\.")} because its certificate ${reason}`;
                    assert.match(log, new RegExp(refused), direction);
                }
                recordRow(
                    domain,
                    "johansson.test",
                    "refused: the family closes the connection",
                    `none: its certificate ${reason}`,
                );
            }
        });

        it(
            "does not let a server with a valid certificate slip in, by dialback, a domain " +
                "whose certificate the family refuses",
            async () => {
                const pappa = await as("pappa@johansson.test");
                const certificates = join(lab.dir, "odd", "certs");
                const { stream, streamId } = await RawServerStream.open(
                    world.johansson.listeners.interfaces[0],
                    world.johansson.listeners.s2sDirectTlsPort,
                    "push.apps.test",
                    "johansson.test",
                    {
                        key: readFileSync(join(certificates, "push.apps.test.key"), "utf8"),
                        cert: readFileSync(join(certificates, "push.apps.test.crt"), "utf8"),
                    },
                );
                try {
                    const dialback = (domain: string) =>
                        stream.send(
                            `<db:result from='${domain}' to='johansson.test'>` +
                                dialbackKey(ODD_DIALBACK_SECRET, "johansson.test", domain, streamId) +
                                "</db:result>",
                        );
                    // The stream's own domain, whose certificate it presented: dialback works as it should.
                    dialback("push.apps.test");
                    await stream.waitFor(
                        /<db:result [^>]*type=['"]valid['"]/,
                        "dialback accepted for push.apps.test",
                    );
                    // Another domain, whose server (the same one, same secret) would confirm the key.
                    const log = () => readFileSync(world.johansson.paths.logFile, "utf8");
                    const refusedBefore = log().split(
                        "Forbidding insecure connection to/from selfsigned.test",
                    ).length;
                    dialback("selfsigned.test");
                    while (
                        log().split("Forbidding insecure connection to/from selfsigned.test").length ===
                        refusedBefore
                    ) {
                        await new Promise((done) => setTimeout(done, 50));
                    }
                    const body = `slipped in ${randomBytes(4).toString("hex")}`;
                    stream.send(
                        `<message from='eve@selfsigned.test' to='${pappa.jid}' type='chat'>` +
                            `<body>${body}</body></message>`,
                    );
                    await stream.waitFor(/<stream:error><not-authorized/, "the family closing the stream");
                    // Anything delivered to Pappa before would arrive before the answer to her ping.
                    await pappa.xmpp.iqCaller.request(
                        xml(
                            "iq",
                            { type: "get", to: "johansson.test" },
                            xml("ping", { xmlns: "urn:xmpp:ping" }),
                        ),
                    );
                    assert.deepEqual(
                        pappa.received.filter((s) => s.getChildText("body") === body).map(String),
                        [],
                    );
                    const confirmed =
                        /<db:result(?=[^>]*to=['"]selfsigned\.test['"])(?=[^>]*type=['"]valid['"])/;
                    assert.doesNotMatch(stream.transcript, confirmed);
                } finally {
                    stream.close();
                }
            },
        );

        it(
            "with federation off: refuses other servers at the door, refuses to write to " +
                "them, and still wakes a phone through its push service",
            async () => {
                const larsson = world.larsson;
                const address = larsson.listeners.interfaces[0];
                for (const port of [5269, 5270]) {
                    const connect = spawnSync(
                        "ip",
                        [
                            "netns",
                            "exec",
                            world.jabber.placement.namespace,
                            "bash",
                            "-c",
                            `exec 3<>/dev/tcp/${address}/${port}`,
                        ],
                        { encoding: "utf8" },
                    );
                    assert.notEqual(
                        connect.status,
                        0,
                        `port ${port} of the family's server from another server`,
                    );
                    assert.match(connect.stderr, /Connection refused/);
                }
                const [lars, maria] = [await as("lars@larsson.test"), await as("maria@jabber.test")];
                const there = await deliver(lars, maria);
                assert.deepEqual(there, {
                    delivered: false,
                    error: "not-allowed: Communication with remote domains is not enabled",
                });
                const back = await deliver(maria, lars);
                assert.equal(back.delivered, false);
                recordRow("larsson.test", "jabber.test", outcome(there), "none: federation is off");
                recordRow(
                    "jabber.test",
                    "larsson.test",
                    outcome(back),
                    "none: DNS says no service, no port is open",
                );

                const pushed = await pushReachesService("lisa@larsson.test", "lars@larsson.test");
                assert.equal(pushed.node, pushed.expectedNode);
                // The push service's answers come back over the family server's own connection.
                const connections = s2sConnections(larsson);
                assert.deepEqual(
                    connections.map((c) => `${c.opened} ${c.remote} ${c.bidirectional}`),
                    ["out push.apps.test true"],
                );
                const info = await lars.xmpp.iqCaller.request(
                    xml(
                        "iq",
                        { type: "get", to: "push.apps.test" },
                        xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
                    ),
                );
                assert.equal(info.attrs.type, "result");
                recordRow(
                    "larsson.test",
                    "push.apps.test",
                    "push delivered, answers come back",
                    routeOf(connections, "larsson.test", "push.apps.test"),
                );
                const check = spawnSync(
                    "prosodyctl",
                    ["--config", larsson.paths.prosodyConfig, "check", "config"],
                    { encoding: "utf8" },
                );
                assert.match(check.stdout, /All checks passed/, check.stdout);
            },
        );

        it(
            "with federation on, wakes a member's phone through the push service on another " + "server",
            async () => {
                const pushed = await pushReachesService("mattias@johansson.test", "pappa@johansson.test");
                assert.equal(pushed.node, pushed.expectedNode);
                recordRow(
                    "johansson.test",
                    "push.apps.test",
                    "push delivered",
                    routeOf(s2sConnections(world.johansson), "johansson.test", "push.apps.test"),
                );
            },
        );

        it("restarts Prosody when federation is switched on or off, which a reload cannot apply", () => {
            for (const family of [world.johansson, world.larsson]) {
                const switched = { ...family.model, federation: !family.model.federation };
                const [config] = renderFamilyFiles(switched, family.host);
                writeFileSync(config.path, config.content);
                const shell = (line: string) =>
                    spawnSync("sh", ["-c", `${family.host.commands.prosodyctl} shell "$0"`, line], {
                        encoding: "utf8",
                    }).stdout;
                shell("config:reload()");
                assert.match(shell(applyFamilyLua(switched, family.host)), /family needs a restart/);
            }
        });

        it("prints the matrix, which README's federation section keeps", () => {
            const table = renderMatrix();
            console.log(`\n${table}\n`);
            const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
            assert.ok(
                readme.includes(table),
                "README.md's federation section has another matrix than this run found",
            );
        });
    },
);

/**
 * A member's phone enables push (XEP-0357) with the push service's account as App Server, goes
 * offline, and `sender` writes to it: resolves with the node the service was notified about.
 */
async function pushReachesService(
    phoneJid: string,
    senderJid: string,
): Promise<{ node?: string; expectedNode: string }> {
    const service = await as(`${PUSH_SERVICE_USER}@push.apps.test`, "gateway");
    const phone = await loginThroughDns(lab, phoneJid, passwordOf(phoneJid), "phone");
    const expectedNode = randomBytes(8).toString("hex");
    await phone.xmpp.iqCaller.request(
        xml(
            "iq",
            { type: "set" },
            xml("enable", { xmlns: "urn:xmpp:push:0", jid: service.fullJid, node: expectedNode }),
        ),
    );
    await phone.stop();
    const sender = await as(senderJid);
    const published = service.waitFor(
        (s) =>
            s.is("iq") &&
            s.attrs.type === "set" &&
            s.getChild("pubsub")?.getChild("publish")?.attrs.node === expectedNode,
        `a push for ${phoneJid}`,
        20_000,
    );
    await sender.xmpp.send(xml("message", { to: phoneJid, type: "chat" }, xml("body", {}, "Middag!")));
    const push = await published;
    await service.xmpp.send(
        xml("iq", { type: "result", to: push.attrs.from ?? "", id: push.attrs.id ?? "" }),
    );
    return { node: push.getChild("pubsub")?.getChild("publish")?.attrs.node, expectedNode };
}

function run(command: string, args: readonly string[]): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
        const child = spawn(command, args);
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.on("close", (status) => resolve({ status, output }));
    });
}
