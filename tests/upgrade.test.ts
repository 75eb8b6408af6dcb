/**
 * The upgrade path of a family already on Debian 12: `pulumi up` with the new image replaces the
 * server, the volume comes back, and Prosody 13 starts on what Prosody 0.12.3 left there. Here the
 * volume is tests/fixtures/prosody-0.12/data (written by a real Prosody 0.12.3 through the stack as
 * it was before the move; see the README there), copied into the project's own local server,
 * which runs today's rendered config and account scripts on the installed Prosody 13.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { Element, xml } from "@xmpp/client";
import { rawConfigFromStackFile } from "../model/stack-config";
import { LocalServer, prosodyInstalled, startLocalServer } from "../scripts/local-server";
import { familyModel } from "./support/families";
import { httpsAt } from "./support/https";
import { UPGRADE_FIXTURE_DIR, upgradeFixtureFacts } from "./support/upgrade-fixture";
import { prosodyVersion } from "./support/prosody-0.12";
import { login, Session } from "./support/xmpp";

const FACTS = upgradeFixtureFacts();
const FAMILY = familyModel(
    rawConfigFromStackFile(readFileSync(join(UPGRADE_FIXTURE_DIR, "Pulumi.fixture.yaml"), "utf8")),
);

const skipReason = prosodyInstalled() ? undefined : "Prosody is not installed (apt-get install prosody)";
if (skipReason && process.env.CI === "true")
    throw new Error(`${skipReason}; .ci/run should have installed it`);

let server: LocalServer;
let stateDir: string;
const sessions: Session[] = [];

/** Logs a member in with the password they have now: the stack's initial one, or their own. */
async function member(jid: string, resource: string): Promise<Session> {
    const password = jid === FACTS.changedPassword.jid ? FACTS.changedPassword.password : undefined;
    const session = await login(server, jid, password ?? FACTS.initialPasswords[jid], resource);
    sessions.push(session);
    return session;
}

async function pepItems(session: Session, node: string): Promise<Element[]> {
    const result = await session.xmpp.iqCaller.request(
        xml(
            "iq",
            { type: "get" },
            xml("pubsub", { xmlns: "http://jabber.org/protocol/pubsub" }, xml("items", { node })),
        ),
    );
    return result.getChild("pubsub")?.getChild("items")?.getChildren("item") ?? [];
}

async function affiliated(session: Session, room: string, affiliation: string): Promise<string[]> {
    const result = await session.xmpp.iqCaller.request(
        xml(
            "iq",
            { type: "get", to: room },
            xml("query", { xmlns: "http://jabber.org/protocol/muc#admin" }, xml("item", { affiliation })),
        ),
    );
    return (result.getChild("query")?.getChildren("item") ?? []).map((item) => item.attrs.jid ?? "").sort();
}

describe("a Debian 12 family's data on Prosody 13", { skip: skipReason }, () => {
    before(async () => {
        stateDir = mkdtempSync(join(tmpdir(), "upgrade-"));
        // The volume as the Debian 12 server left it, and the passwords Pulumi's state holds.
        cpSync(join(UPGRADE_FIXTURE_DIR, "data"), join(stateDir, "data"), { recursive: true });
        writeFileSync(join(stateDir, "credentials.json"), JSON.stringify(FACTS.initialPasswords), {
            mode: 0o600,
        });
        server = await startLocalServer({ model: FAMILY, stateDir, portOffset: 320 });
        setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
    });

    after(async () => {
        await Promise.allSettled(sessions.map((session) => session.stop()));
        await server?.stop();
        if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    it("was written by Prosody 0.12 and is now served by Prosody 13", async () => {
        assert.match(FACTS.prosodyVersion, /^0\.12\./);
        assert.match(prosodyVersion(), /^13\./);
    });

    it(
        "lets every member log in with the password they had, also one changed from an app, " +
            "which the account step leaves alone",
        async () => {
            for (const jid of Object.keys(FACTS.initialPasswords)) await (await member(jid, "login")).stop();
            const { jid } = FACTS.changedPassword;
            await assert.rejects(
                login(server, jid, FACTS.initialPasswords[jid], "old-password"),
                /not-authorized/,
            );
        },
    );

    it("keeps the contacts a member added by hand, beside those of their group", async () => {
        const anna = await member(FACTS.ownContacts.owner, "roster");
        const roster = (await anna.roster()).map(
            (item) => `${item.jid} ${item.name} (${item.groups.join()})`,
        );
        for (const contact of FACTS.ownContacts.items)
            assert.ok(
                roster.includes(`${contact.jid} ${contact.name} (${contact.group})`),
                roster.join("\n"),
            );
        assert.ok(roster.some((line) => line.startsWith("bo@family.test ") && line.endsWith("(Family)")));
        await anna.stop();
    });

    it("keeps both members' message archives", async () => {
        for (const jid of new Set(FACTS.chat.flatMap((message) => [message.from, message.to]))) {
            const session = await member(jid, "archive");
            assert.deepEqual(
                (await session.archivedBodies()).filter((body) => FACTS.chat.some((m) => m.body === body)),
                FACTS.chat.map((message) => message.body),
                jid,
            );
            await session.stop();
        }
    });

    it("delivers the message left for a member who was offline, with its original time", async () => {
        const bo = await member(FACTS.offline.to, "offline");
        await bo.xmpp.send(xml("presence"));
        const message = await bo.waitFor((s) => s.getChildText("body") === FACTS.offline.body, "the message");
        assert.equal(message.attrs.from?.split("/")[0], FACTS.offline.from);
        assert.ok(message.getChild("delay", "urn:xmpp:delay")?.attrs.stamp, "no delay stamp");
        await bo.stop();
    });

    it("keeps the group's room with its subject and history", async () => {
        const anna = await member("anna@family.test", "family-room");
        const subject = anna.waitFor(
            (s) =>
                s.is("message") &&
                s.attrs.from?.startsWith(FACTS.familyRoom.jid) === true &&
                !!s.getChild("subject"),
            "the room's subject",
        );
        await anna.joinRoom(FACTS.familyRoom.jid, "Anna");
        assert.equal((await subject).getChildText("subject"), FACTS.familyRoom.subject);
        assert.ok((await anna.archivedBodies(FACTS.familyRoom.jid)).includes(FACTS.familyRoom.body));
        await anna.stop();
    });

    it("keeps a room a member made from their app: its owner, its member list and its history", async () => {
        const { ownRoom } = FACTS;
        const owner = await member(ownRoom.owner, "own-room");
        assert.deepEqual(await affiliated(owner, ownRoom.jid, "owner"), [ownRoom.owner]);
        assert.deepEqual(await affiliated(owner, ownRoom.jid, "member"), [...ownRoom.members].sort());
        await owner.stop();
        const guest = await member(ownRoom.members[0], "own-room");
        assert.equal((await guest.joinRoom(ownRoom.jid, "Gäst")).attrs.type, undefined);
        assert.ok((await guest.archivedBodies(ownRoom.jid)).includes(ownRoom.body));
        await guest.stop();
    });

    it("keeps what a member published with PEP: a bookmark and an avatar", async () => {
        const { pep } = FACTS;
        const anna = await member(pep.owner, "pep");
        const bookmarks = await pepItems(anna, "urn:xmpp:bookmarks:1");
        const bookmark = bookmarks.find((item) => item.attrs.id === pep.bookmark.room);
        assert.equal(bookmark?.getChild("conference", "urn:xmpp:bookmarks:1")?.attrs.name, pep.bookmark.name);
        const avatar = (await pepItems(anna, "urn:xmpp:avatar:data")).find(
            (item) => item.attrs.id === pep.avatar.id,
        );
        assert.equal(avatar?.getChildText("data"), pep.avatar.base64);
        await anna.stop();
    });

    it("serves a file shared before the upgrade, byte for byte", async () => {
        const { sharedFile } = FACTS;
        const url = `https://upload.${FAMILY.domain}:${server.listeners.httpsPort}${sharedFile.path}`;
        const fetched = await httpsAt("127.0.0.1", url, "GET");
        assert.equal(fetched.status, 200);
        assert.equal(fetched.body.length, sharedFile.bytes);
        assert.equal(createHash("sha256").update(fetched.body).digest("hex"), sharedFile.sha256);
    });
});
