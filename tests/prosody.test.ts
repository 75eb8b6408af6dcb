/**
 * The rendered config on a real Prosody 0.12 (Debian's package), with accounts made by the very
 * scripts the provisioning step runs over SSH, probed by a real XMPP client library over STARTTLS.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { Element, xml } from "@xmpp/client";
import { renderImportHook } from "../render/certificates";
import { LocalServer, startLocalServer } from "../scripts/local-server";
import { missingTools, PROSODY } from "./support/tools";
import { familyModel } from "./support/families";
import { httpsAt } from "./support/https";
import { RawStream } from "./support/raw-stream";
import { renewedCertificate } from "./support/renewal";
import { login, loginAt, Session } from "./support/xmpp";

const MEMBERS = [
    { username: "anna", name: "Anna", admin: true },
    { username: "bo", name: "Bo" },
    { username: "åsa", name: "Mormor Åsa" },
    { username: "dora", name: "Dora" },
];
const FAMILY = familyModel({
    domain: "family.test",
    members: MEMBERS,
    groups: [
        { name: "Family", members: ["anna", "bo", "åsa"] },
        { name: "Cousins", members: ["dora"] },
    ],
});
const DOMAIN = FAMILY.domain;
const jid = (username: string) => `${username}@${DOMAIN}`;

const skipReason = missingTools([PROSODY]);

let server: LocalServer;
let stateDir: string;
const sessions: Session[] = [];

/** What `to` answers to service discovery (XEP-0030): its disco#info query element. */
async function discoInfo(session: Session, to: string): Promise<Element | undefined> {
    const result = await session.xmpp.iqCaller.request(
        xml("iq", { type: "get", to }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })),
    );
    return result.getChild("query");
}

/** A member changes their own password from their app (XEP-0077). */
async function changePassword(session: Session, password: string): Promise<void> {
    const username = session.jid.split("@")[0];
    const query = xml(
        "query",
        { xmlns: "jabber:iq:register" },
        xml("username", {}, username),
        xml("password", {}, password),
    );
    await session.xmpp.iqCaller.request(xml("iq", { type: "set" }, query));
}

/** A member's bookmarks (XEP-0402) as "room name autojoin nick" lines, sorted. */
async function bookmarksOf(session: Session): Promise<string[]> {
    const result = await session.xmpp.iqCaller.request(
        xml(
            "iq",
            { type: "get" },
            xml(
                "pubsub",
                { xmlns: "http://jabber.org/protocol/pubsub" },
                xml("items", { node: "urn:xmpp:bookmarks:1" }),
            ),
        ),
    );
    const items = result.getChild("pubsub")?.getChild("items")?.getChildren("item") ?? [];
    return items
        .map((item) => {
            const conference = item.getChild("conference", "urn:xmpp:bookmarks:1");
            const autojoin = ["true", "1"].includes(conference?.attrs.autojoin ?? "") ? "autojoin" : "manual";
            const nick = conference?.getChildText("nick");
            return `${item.attrs.id} ${conference?.attrs.name} ${autojoin} ${nick}`;
        })
        .sort();
}

function featuresOf(info: Element | undefined): string[] {
    return info?.getChildren("feature").map((feature) => feature.attrs.var ?? "") ?? [];
}

/** Resolves once the server has handled everything the session sent before (a ping's answer follows them). */
async function handledByServer(session: Session): Promise<void> {
    await session.xmpp.iqCaller.request(
        xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })),
    );
}

async function loggedIn(username: string, resource?: string): Promise<Session> {
    const session = await login(server, jid(username), undefined, resource);
    sessions.push(session);
    return session;
}

describe("the family server on a real Prosody", { skip: skipReason }, () => {
    before(async () => {
        stateDir = mkdtempSync(join(tmpdir(), "family-xmpp-prosody-"));
        server = await startLocalServer({
            model: FAMILY,
            stateDir,
            portOffset: 20000 + (process.pid % 2000),
        });
        setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
    });

    after(async () => {
        await Promise.allSettled(sessions.map((session) => session.stop()));
        await server?.stop();
        rmSync(stateDir, { recursive: true, force: true });
    });

    it("starts from a config Prosody 13 accepts without a warning (prosodyctl check config)", () => {
        const check = spawnSync("prosodyctl", ["--config", server.paths.prosodyConfig, "check", "config"], {
            encoding: "utf8",
        });
        assert.equal(check.status, 0, check.stdout + check.stderr);
        assert.match(check.stdout, /All checks passed/);
        assert.doesNotMatch(check.stdout, /deprecated|obsolete|unknown|misplaced|should be|not enabled/i);
        const log = readFileSync(server.paths.logFile, "utf8");
        assert.deepEqual(
            log.split("\n").filter((line) => /\t(warn|error)\t/.test(line)),
            [],
            "Prosody logged warnings or errors at start",
        );
    });

    it("lets every member log in over STARTTLS with the certificate for the family's domain", async () => {
        for (const { username } of MEMBERS) {
            const session = await loggedIn(username, "login-check");
            assert.equal(session.jid, jid(username));
            await session.stop();
        }
    });

    it("shows each member the rest of their group, with names, subscription both and the group", async () => {
        const anna = await loggedIn("anna");
        assert.deepEqual(sortByJid(await anna.roster()), [
            { jid: jid("bo"), name: "Bo", subscription: "both", groups: ["Family"] },
            { jid: jid("åsa"), name: "Mormor Åsa", subscription: "both", groups: ["Family"] },
        ]);
    });

    it("does not show members of another group", async () => {
        const dora = await loggedIn("dora");
        assert.deepEqual(await dora.roster(), []);
        const bo = await loggedIn("bo");
        assert.ok(!(await bo.roster()).some((item) => item.jid === jid("dora")));
    });

    it("shares presence within the group without any subscription request", async () => {
        const anna = await loggedIn("anna", "presence");
        const bo = await loggedIn("bo", "presence");
        await anna.xmpp.send(xml("presence"));
        await bo.xmpp.send(xml("presence"));
        await anna.waitFor(
            (s) => s.is("presence") && (s.attrs.from ?? "").startsWith(`${jid("bo")}/`) && !s.attrs.type,
            "Bo's presence",
        );
        await bo.waitFor(
            (s) => s.is("presence") && (s.attrs.from ?? "").startsWith(`${jid("anna")}/`) && !s.attrs.type,
            "Anna's presence",
        );
        const requests = [...anna.received, ...bo.received].filter(
            (s) => s.is("presence") && s.attrs.type === "subscribe",
        );
        assert.deepEqual(requests.map(String), []);
    });

    it(
        "advertises history, push, carbons, blocking and its contacts " +
            "(XEP-0313, 0357, 0280, 0191, 0157)",
        async () => {
            const anna = await loggedIn("anna", "disco");
            const account = featuresOf(await discoInfo(anna, jid("anna")));
            assert.ok(account.includes("urn:xmpp:mam:2"), "MAM on the account");
            assert.ok(account.includes("urn:xmpp:push:0"), "push on the account");
            // What OMEMO and profiles need from PEP (XEP-0163, XEP-0223, vCard4, bookmarks 2 with
            // conversion).
            for (const feature of [
                "http://jabber.org/protocol/pubsub#publish-options",
                "urn:ietf:params:xml:ns:vcard-4.0",
                "urn:xmpp:bookmarks:1#compat",
            ]) {
                assert.ok(account.includes(feature), `${feature} on the account`);
            }
            const serverInfo = await discoInfo(anna, DOMAIN);
            const server = featuresOf(serverInfo);
            assert.ok(server.includes("urn:xmpp:carbons:2"), "carbons");
            assert.ok(server.includes("urn:xmpp:blocking"), "blocking");
            const contacts = serverInfo
                ?.getChild("x", "jabber:x:data")
                ?.getChildren("field")
                .find((field) => field.attrs.var === "admin-addresses")
                ?.getChildren("value")
                .map((value) => value.text());
            assert.deepEqual(contacts, [`xmpp:${jid("anna")}`]);
        },
    );

    it(
        "offers phones stream management, client state indication and its capabilities at login " +
            "(XEP-0198, 0352, 0115)",
        async () => {
            const phone = await loggedIn("bo", "features");
            assert.ok(phone.xmpp.streamManagement.enabled, "stream management");
            const afterLogin = phone.streamFeatures.at(-1);
            assert.ok(afterLogin?.getChild("csi", "urn:xmpp:csi:0"), "client state indication");
            assert.equal(afterLogin?.getChild("c", "http://jabber.org/protocol/caps")?.attrs.hash, "sha-1");
        },
    );

    it(
        "lets phones log in and bind in one round trip: SASL2 with Bind 2, stream management, " +
            "carbons and client state inline (XEP-0388, 0386)",
        async () => {
            const phone = await loggedIn("bo", "sasl2");
            const beforeLogin = phone.streamFeatures.find((features) =>
                features.getChild("authentication", "urn:xmpp:sasl:2"),
            );
            const sasl2 = beforeLogin?.getChild("authentication", "urn:xmpp:sasl:2");
            assert.ok(sasl2, "SASL2 is offered");
            const bind2 = sasl2.getChild("inline")?.getChild("bind", "urn:xmpp:bind:0");
            assert.deepEqual(
                bind2
                    ?.getChild("inline")
                    ?.getChildren("feature")
                    .map((feature) => feature.attrs.var)
                    .sort(),
                ["urn:xmpp:carbons:2", "urn:xmpp:csi:0", "urn:xmpp:sm:3"],
            );
            assert.ok(sasl2.getChild("inline")?.getChild("sm", "urn:xmpp:sm:3"), "resumption inline");
            assert.ok(sasl2.getChild("inline")?.getChild("fast", "urn:xmpp:fast:0"), "FAST is offered");
            // Channel binding (XEP-0440) for apps that can: SCRAM-…-PLUS over tls-exporter.
            const mechanisms = sasl2.getChildren("mechanism").map((mechanism) => mechanism.text());
            assert.ok(mechanisms.includes("SCRAM-SHA-1-PLUS"), mechanisms.join());
            const bindings = beforeLogin?.getChild("sasl-channel-binding", "urn:xmpp:sasl-cb:0");
            assert.deepEqual(
                bindings?.getChildren("channel-binding").map((binding) => binding.attrs.type),
                ["tls-exporter"],
            );
            // Bound by Bind 2: the app's tag, then the server's own suffix.
            assert.match(phone.fullJid, new RegExp(`^${jid("bo")}/sasl2~`));
        },
    );

    it("gives an app a FAST token and lets it reconnect with the token alone (XEP-0484)", async () => {
        const first = await loggedIn("bo", "fast");
        const token = await first.xmpp.fast.fetchToken();
        assert.ok(token, "no FAST token was handed out");
        assert.equal(token.mechanism, "HT-SHA-256-NONE");
        await first.stop();
        // The same app again, with its token and without the password.
        const again = await loginAt(
            { host: "127.0.0.1", port: server.listeners.c2sPort },
            jid("bo"),
            "not-the-password",
            "fast",
            token,
        );
        sessions.push(again);
        assert.match(again.fullJid, new RegExp(`^${jid("bo")}/fast~`));
        await assert.rejects(login(server, jid("bo"), "not-the-password", "no-token"), /not-authorized/);
    });

    it(
        "advertises vCards, avatar conversion and private storage, and room self-pings " +
            "(XEP-0054, 0398, 0049, 0410)",
        async () => {
            const anna = await loggedIn("anna", "disco-im");
            const features = async (to: string) => featuresOf(await discoInfo(anna, to));
            const server = await features(DOMAIN);
            assert.ok(server.includes("vcard-temp"), "vcard-temp");
            assert.ok(server.includes("jabber:iq:private"), "private XML storage");
            assert.ok(
                (await features(jid("anna"))).includes("urn:xmpp:pep-vcard-conversion:0"),
                "avatar conversion",
            );
            const room = await features(`family@conference.${DOMAIN}`);
            assert.ok(
                room.includes("http://jabber.org/protocol/muc#self-ping-optimization"),
                "MUC self-ping",
            );
        },
    );

    it("copies a message to the member's other device (carbons)", async () => {
        const phone = await loggedIn("anna", "phone");
        const laptop = await loggedIn("anna", "laptop");
        for (const device of [phone, laptop]) {
            await device.xmpp.iqCaller.request(
                xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:carbons:2" })),
            );
            await device.xmpp.send(xml("presence"));
        }
        const bo = await loggedIn("bo", "carbons");
        await bo.xmpp.send(
            xml("message", { to: phone.fullJid, type: "chat" }, xml("body", {}, "Till telefonen")),
        );
        const carbon = await laptop.waitFor(
            (s) => s.is("message") && s.getChild("received", "urn:xmpp:carbons:2") !== undefined,
            "a carbon copy",
        );
        const copied = carbon
            .getChild("received", "urn:xmpp:carbons:2")
            ?.getChild("forwarded", "urn:xmpp:forward:0")
            ?.getChild("message");
        assert.equal(copied?.getChildText("body"), "Till telefonen");
    });

    it("returns a message from the archive to a device that connects later (XEP-0313)", async () => {
        const bo = await loggedIn("bo", "archive");
        await bo.xmpp.send(
            xml("message", { to: jid("anna"), type: "chat" }, xml("body", {}, "Kommer du ikväll?")),
        );
        await handledByServer(bo);
        const tablet = await loggedIn("anna", "tablet");
        assert.ok((await tablet.archivedBodies()).includes("Kommer du ikväll?"));
    });

    it("delivers a message sent while the member was offline at their next login", async () => {
        await Promise.allSettled(
            sessions.filter((session) => session.jid === jid("dora")).map((session) => session.stop()),
        );
        const anna = await loggedIn("anna", "offline");
        await anna.xmpp.send(
            xml("message", { to: jid("dora"), type: "chat" }, xml("body", {}, "Grattis på födelsedagen!")),
        );
        await handledByServer(anna);
        const dora = await loggedIn("dora", "offline");
        await dora.xmpp.send(xml("presence"));
        const delivered = await dora.waitFor(
            (s) => s.is("message") && s.getChildText("body") === "Grattis på födelsedagen!",
            "the message kept for her",
        );
        assert.ok(delivered.getChild("delay", "urn:xmpp:delay"), "no delay stamp: it was not stored offline");
    });

    it("delivers a message from one member to another", async () => {
        const anna = await loggedIn("anna", "chat");
        const åsa = await loggedIn("åsa", "chat");
        await åsa.xmpp.send(xml("presence"));
        await anna.xmpp.send(
            xml("message", { to: jid("åsa"), type: "chat" }, xml("body", {}, "Hej mormor! 👋")),
        );
        const message = await åsa.waitFor(
            (s) => s.is("message") && s.getChildText("body") !== null,
            "Anna's message",
        );
        assert.equal(message.getChildText("body"), "Hej mormor! 👋");
        assert.ok((message.attrs.from ?? "").startsWith(`${jid("anna")}/`));
    });

    it("bookmarks the rooms of the member's groups from their first login (XEP-0402)", async () => {
        const åsa = await loggedIn("åsa", "bookmarks");
        assert.deepEqual(await bookmarksOf(åsa), [
            "family@conference.family.test Family autojoin Mormor Åsa",
        ]);
        const dora = await loggedIn("dora", "bookmarks");
        assert.deepEqual(await bookmarksOf(dora), ["cousins@conference.family.test Cousins autojoin Dora"]);
    });

    it("gives each group its chat room: members join and talk, the room keeps the history", async () => {
        const room = "family@conference.family.test";
        const anna = await loggedIn("anna", "room");
        const åsa = await loggedIn("åsa", "room");
        const annaJoined = await anna.joinRoom(room, "Anna");
        assert.equal(annaJoined.attrs.type, undefined, String(annaJoined));
        const item = annaJoined.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("item");
        assert.equal(item?.attrs.affiliation, "owner", "a family admin owns the room");
        const åsaJoined = await åsa.joinRoom(room, "Mormor");
        assert.equal(
            åsaJoined.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("item")?.attrs
                .affiliation,
            "member",
        );
        const greeting = "Välkomna till familjechatten!";
        await anna.xmpp.send(xml("message", { to: room, type: "groupchat" }, xml("body", {}, greeting)));
        const heard = await åsa.waitFor(
            (s) => s.is("message") && s.attrs.type === "groupchat" && s.getChildText("body") !== null,
            "the room's message",
        );
        assert.equal(heard.attrs.from, `${room}/Anna`);
        assert.ok((await åsa.archivedBodies(room)).includes(greeting));
    });

    it("keeps members of other groups out of a group's room", async () => {
        const dora = await loggedIn("dora", "room");
        const refused = await dora.joinRoom("family@conference.family.test", "Dora");
        assert.equal(refused.attrs.type, "error");
        assert.ok(
            refused
                .getChild("error")
                ?.getChild("registration-required", "urn:ietf:params:xml:ns:xmpp-stanzas"),
            String(refused),
        );
        const own = await dora.joinRoom("cousins@conference.family.test", "Dora");
        assert.equal(own.attrs.type, undefined, String(own));
    });

    it("lets family members create rooms of their own", async () => {
        const bo = await loggedIn("bo", "new-room");
        const created = await bo.joinRoom("fotboll@conference.family.test", "Bo");
        assert.ok(
            created
                .getChild("x", "http://jabber.org/protocol/muc#user")
                ?.getChildren("status")
                .some((status) => status.attrs.code === "201"),
            String(created),
        );
    });

    it(
        "shares a file: an upload slot, a PUT over HTTPS with the domain's certificate, " +
            "the same bytes back",
        async () => {
            const anna = await loggedIn("anna", "upload");
            const photo = randomBytes(300_000);
            const slot = await anna.xmpp.iqCaller.request(
                xml(
                    "iq",
                    { type: "get", to: `upload.${DOMAIN}` },
                    xml("request", {
                        xmlns: "urn:xmpp:http:upload:0",
                        filename: "midsommar.jpg",
                        size: String(photo.length),
                        "content-type": "image/jpeg",
                    }),
                ),
            );
            const put = slot.getChild("slot")?.getChild("put")?.attrs.url ?? "";
            const get = slot.getChild("slot")?.getChild("get")?.attrs.url ?? "";
            assert.match(put, new RegExp(`^https://upload\\.family\\.test:${server.listeners.httpsPort}/`));
            // The slot's headers (an Authorization token) go with the PUT, as XEP-0363 says.
            const slotHeaders = Object.fromEntries(
                (slot.getChild("slot")?.getChild("put")?.getChildren("header") ?? []).map((header) => [
                    header.attrs.name ?? "",
                    header.text(),
                ]),
            );
            const uploaded = await httpsAt("127.0.0.1", put, "PUT", photo, {
                "content-type": "image/jpeg",
                ...slotHeaders,
            });
            assert.equal(uploaded.status, 201);
            const downloaded = await httpsAt("127.0.0.1", get, "GET");
            assert.equal(downloaded.status, 200);
            assert.ok(downloaded.body.equals(photo), "the file came back different");
        },
    );

    it("refuses an upload slot for a file above the size limit", async () => {
        const anna = await loggedIn("anna", "upload-too-big");
        const tooBig = String(100 * 1024 * 1024 + 1);
        await assert.rejects(
            anna.xmpp.iqCaller.request(
                xml(
                    "iq",
                    { type: "get", to: `upload.${DOMAIN}` },
                    xml("request", {
                        xmlns: "urn:xmpp:http:upload:0",
                        filename: "film.mkv",
                        size: tooBig,
                        "content-type": "video/x-matroska",
                    }),
                ),
            ),
            /not-acceptable/,
        );
    });

    it("refuses to register a new account in-band, which it offers only with a welcome link", async () => {
        const stream = await RawStream.open(server.listeners.c2sPort, DOMAIN);
        try {
            const features = await stream.startTls();
            assert.match(features, /<register xmlns=['"]urn:xmpp:ibr-token:0['"]\/>/);
            stream.send(
                "<iq type='set' id='reg1'><query xmlns='jabber:iq:register'>" +
                    "<username>mallory</username><password>Secret-123</password></query></iq>",
            );
            const reply = await stream.waitFor(
                /<iq[^>]*id=['"]reg1['"][\s\S]*?(<\/iq>|\/>)/,
                "a reply to the registration",
            );
            assert.match(reply, /type=['"]error['"]/);
        } finally {
            stream.close();
        }
        await assert.rejects(login(server, jid("mallory"), "Secret-123"));
    });

    it("refuses to authenticate before TLS", async () => {
        const stream = await RawStream.open(server.listeners.c2sPort, DOMAIN);
        try {
            const features = stream.plainFeatures;
            assert.match(features, /<starttls xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]>\s*<required\/>/);
            assert.doesNotMatch(features, /<mechanisms/);
            const credentials = Buffer.from(`\0anna\0${server.credentials[jid("anna")]}`).toString("base64");
            stream.send(
                `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${credentials}</auth>`,
            );
            const answer = await stream.waitFor(
                /<failure[\s\S]*?<\/failure>|<stream:error>[\s\S]*?<\/stream:error>|<success/,
                "an answer to <auth/>",
            );
            assert.doesNotMatch(answer, /<success/);
        } finally {
            stream.close();
        }
    });

    it("offers direct TLS (XEP-0368) with the domain's certificate, and nothing older than TLS 1.2", () => {
        const probe = (...extra: string[]) =>
            spawnSync(
                "openssl",
                [
                    "s_client",
                    "-connect",
                    `127.0.0.1:${server.listeners.c2sDirectTlsPort}`,
                    "-servername",
                    DOMAIN,
                    "-CAfile",
                    join(stateDir, "ca.crt"),
                    "-verify_return_error",
                    "-verify_hostname",
                    DOMAIN,
                    ...extra,
                ],
                { input: "", encoding: "utf8", timeout: 10_000 },
            );
        const modern = probe("-tls1_2");
        assert.match(modern.stdout, /Verify return code: 0 \(ok\)/, modern.stderr);
        const old = probe("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
        assert.notEqual(old.status, 0);
        assert.match(old.stdout, /no peer certificate available/);
    });

    it("serves a renewed certificate right after certbot's deploy hook imported it", (t) => {
        if (process.getuid?.() !== 0) {
            t.skip("the deploy hook runs as root, as certbot does");
            return;
        }
        const renewal = renewedCertificate(FAMILY);
        const hook = renderImportHook(FAMILY, {
            ...server.host,
            paths: { ...server.host.paths, letsEncryptLive: renewal.liveDir },
        });
        const result = spawnSync("sh", ["-c", hook], {
            encoding: "utf8",
            env: { ...process.env, RENEWED_LINEAGE: join(renewal.liveDir, DOMAIN) },
        });
        assert.equal(result.status, 0, result.stdout + result.stderr);

        const served = spawnSync(
            "openssl",
            [
                "s_client",
                "-starttls",
                "xmpp",
                "-xmpphost",
                DOMAIN,
                "-connect",
                `127.0.0.1:${server.listeners.c2sPort}`,
                "-CAfile",
                renewal.caFile,
                "-verify_return_error",
                "-verify_hostname",
                DOMAIN,
            ],
            { input: "", encoding: "utf8", timeout: 10_000 },
        );
        assert.match(
            served.stdout,
            /Verify return code: 0 \(ok\)/,
            `the old certificate is still served\n${served.stderr}`,
        );
        setDefaultCACertificates([
            ...getCACertificates("default"),
            server.caCertificate,
            renewal.caCertificate,
        ]);
        renewal.remove();
    });

    it("lets a member change their own password from their app (XEP-0077)", async () => {
        const doraJid = jid("dora");
        const old = server.credentials[doraJid];
        const dora = await loggedIn("dora", "password");
        await changePassword(dora, "Dora-new-secret-2026");
        await dora.stop();
        await assert.rejects(login(server, doraJid, old), /not-authorized/);
        // Put it back with the new one, which works: the credentials stay the truth for later tests.
        const again = await login(server, doraJid, "Dora-new-secret-2026", "restore");
        await changePassword(again, old);
        await again.stop();
    });

    it("refuses a wrong password", async () => {
        await assert.rejects(login(server, jid("anna"), "not-the-password"));
    });

    it("keeps an existing account and its password when the account step runs again", async () => {
        const before = server.credentials[jid("bo")];
        server.applyFamilyChange(FAMILY);
        const bo = await loggedIn("bo", "after-rerun");
        assert.equal(server.credentials[jid("bo")], before);
        await bo.stop();
    });

    it(
        "applies a family change to the running server: connected apps get roster pushes and presence, " +
            "nobody is disconnected, rooms and bookmarks follow",
        async () => {
            const anna = await loggedIn("anna", "online-during-change");
            const bo = await loggedIn("bo", "online-during-change");
            const åsa = await loggedIn("åsa", "online-during-change");
            for (const session of [anna, bo, åsa]) {
                await session.roster(); // an app that asked for its roster is sent roster pushes
                await session.xmpp.send(xml("presence"));
            }
            await anna.waitFor(
                (s) => s.is("presence") && s.attrs.from?.startsWith(jid("bo")) === true,
                "Bo online",
            );
            const disconnected: string[] = [];
            for (const session of [anna, bo, åsa]) {
                session.xmpp.on("error", (error: Error) => disconnected.push(`${session.jid}: ${error}`));
            }
            const changed = familyModel({
                domain: DOMAIN,
                members: [...MEMBERS, { username: "erik", name: "Erik" }],
                groups: [
                    { name: "Family", members: ["anna", "åsa", "erik"] },
                    { name: "Cousins", members: ["dora", "bo"] },
                ],
            });
            server.applyFamilyChange(changed);

            const pushed = (session: Session, contact: string, subscription: string) =>
                session.waitFor(
                    (s) =>
                        s.is("iq") &&
                        s.attrs.type === "set" &&
                        s.getChild("query", "jabber:iq:roster")?.getChild("item")?.attrs.jid === contact &&
                        s.getChild("query", "jabber:iq:roster")?.getChild("item")?.attrs.subscription ===
                            subscription,
                    `a roster push: ${contact} ${subscription}`,
                );
            const erikAdded = await pushed(anna, jid("erik"), "both");
            assert.equal(erikAdded.getChild("query")?.getChild("item")?.attrs.name, "Erik");
            await pushed(anna, jid("bo"), "remove");
            await pushed(bo, jid("anna"), "remove");
            await pushed(bo, jid("dora"), "both");
            await pushed(åsa, jid("erik"), "both");
            // Bo left Anna's roster: her app sees him go offline.
            await anna.waitFor(
                (s) =>
                    s.is("presence") &&
                    s.attrs.type === "unavailable" &&
                    s.attrs.from?.startsWith(jid("bo")) === true,
                "Bo's unavailable presence",
            );
            assert.deepEqual(
                sortByJid(await anna.roster()).map((item) => [item.jid, item.groups.join()]),
                [
                    [jid("erik"), "Family"],
                    [jid("åsa"), "Family"],
                ],
            );
            assert.deepEqual(
                (await bo.roster()).map((item) => [item.jid, item.groups.join()]),
                [[jid("dora"), "Cousins"]],
            );
            const erik = await loggedIn("erik", "after-change");
            assert.deepEqual(
                sortByJid(await erik.roster()).map((item) => item.jid),
                [jid("anna"), jid("åsa")],
            );
            // Erik is new: his coming online reaches the connected apps that now list him.
            await erik.xmpp.send(xml("presence"));
            await anna.waitFor(
                (s) =>
                    s.is("presence") &&
                    s.attrs.type === undefined &&
                    s.attrs.from?.startsWith(jid("erik")) === true,
                "Erik's presence",
            );
            assert.deepEqual(disconnected, []);
            // The rooms follow too: Erik is in, Bo (now a cousin) is out, and the bookmarks with them.
            assert.equal(
                (await erik.joinRoom("family@conference.family.test", "Erik")).attrs.type,
                undefined,
            );
            assert.equal((await bo.joinRoom("family@conference.family.test", "Bo")).attrs.type, "error");
            assert.deepEqual(await bookmarksOf(erik), ["family@conference.family.test Family autojoin Erik"]);
            assert.deepEqual(await bookmarksOf(bo), ["cousins@conference.family.test Cousins autojoin Bo"]);
        },
    );

    it("leaves a bookmark the member removed themselves removed, at the next family change", async () => {
        const anna = await loggedIn("anna", "own-bookmarks");
        assert.deepEqual(await bookmarksOf(anna), ["family@conference.family.test Family autojoin Anna"]);
        await anna.xmpp.iqCaller.request(
            xml(
                "iq",
                { type: "set" },
                xml(
                    "pubsub",
                    { xmlns: "http://jabber.org/protocol/pubsub" },
                    xml(
                        "retract",
                        { node: "urn:xmpp:bookmarks:1", notify: "true" },
                        xml("item", { id: "family@conference.family.test" }),
                    ),
                ),
            ),
        );
        server.applyFamilyChange(
            familyModel({
                domain: DOMAIN,
                members: [...MEMBERS, { username: "erik", name: "Erik Johansson" }],
                groups: [
                    { name: "Family", members: ["anna", "åsa", "erik"] },
                    { name: "Cousins", members: ["dora", "bo"] },
                ],
            }),
        );
        assert.deepEqual(await bookmarksOf(anna), []);
        assert.equal((await anna.roster()).find((item) => item.jid === jid("erik"))?.name, "Erik Johansson");
    });

    describe("a member who leaves the config", () => {
        const withoutDora = familyModel({
            domain: DOMAIN,
            members: [
                ...MEMBERS.filter((member) => member.username !== "dora"),
                { username: "erik", name: "Erik" },
            ],
            groups: [{ name: "Family", members: ["anna", "bo", "åsa", "erik"] }],
        });

        it("is disabled: the open session is closed, the login refused, the history kept", async () => {
            const doraPassword = server.credentials[jid("dora")];
            const dora = await loggedIn("dora", "before-removal");
            await dora.xmpp.send(xml("presence"));
            const anna = await loggedIn("anna", "writes-to-dora");
            await anna.xmpp.send(
                xml("message", { to: jid("dora"), type: "chat" }, xml("body", {}, "Kept for Dora")),
            );
            await dora.waitFor((s) => s.getChildText("body") === "Kept for Dora", "Anna's message");
            const closed = new Promise<string>((resolve) =>
                dora.xmpp.on("error", (error: Error) => resolve(String(error))),
            );
            server.applyFamilyChange(withoutDora);
            assert.match(await closed, /not-authorized|Account disabled/);
            await assert.rejects(login(server, jid("dora"), doraPassword), /account-disabled/);
        });

        it("comes back with the history when put back in the config", async () => {
            server.applyFamilyChange(
                familyModel({
                    domain: DOMAIN,
                    members: [...MEMBERS, { username: "erik", name: "Erik" }],
                    groups: [
                        { name: "Family", members: ["anna", "bo", "åsa", "erik"] },
                        { name: "Cousins", members: ["dora"] },
                    ],
                }),
            );
            const dora = await loggedIn("dora", "returned");
            assert.ok((await dora.archivedBodies()).includes("Kept for Dora"), "the history was lost");
            await dora.stop();
        });

        it("is erased only when removedMembers says erase: true; the username stays reserved", async () => {
            const doraPassword = server.credentials[jid("dora")];
            server.applyFamilyChange(
                familyModel({
                    domain: DOMAIN,
                    members: withoutDora.members,
                    removedMembers: [{ username: "dora", erase: true }],
                    groups: withoutDora.groups,
                }),
            );
            await assert.rejects(login(server, jid("dora"), doraPassword), /not-authorized/);
            // Someone new under the old name: the account step refuses, naming the reason.
            assert.throws(
                () =>
                    server.applyFamilyChange(
                        familyModel({
                            domain: DOMAIN,
                            members: [...withoutDora.members, { username: "dora", name: "Another Dora" }],
                        }),
                    ),
                /dora@family\.test was erased; its username stays reserved/,
            );
        });
    });
});

function sortByJid<T extends { jid: string }>(items: T[]): T[] {
    return [...items].sort((a, b) => (a.jid < b.jid ? -1 : 1));
}
