import { createHash } from "node:crypto";
import { Client, client, Element, FastToken, xml } from "@xmpp/client";
import { LocalServer } from "../../scripts/local-server";

/** A member logged in with @xmpp/client over STARTTLS, recording every stanza it receives. */
export interface Session {
    readonly jid: string;
    /** The full JID the server bound: with Bind 2 (XEP-0386) the resource is the app's tag plus a suffix. */
    readonly fullJid: string;
    readonly xmpp: Client;
    readonly received: Element[];
    /** The stream features the server offered, in order: the last ones came after login. */
    readonly streamFeatures: Element[];
    waitFor(predicate: (stanza: Element) => boolean, what: string, timeoutMs?: number): Promise<Element>;
    roster(): Promise<RosterItem[]>;
    /** The bodies of the messages in an archive (XEP-0313): the member's own, or a room's. */
    archivedBodies(archive?: string): Promise<string[]>;
    /** Joins a group chat (XEP-0045); resolves with the room's answer: self-presence or an error. */
    joinRoom(roomJid: string, nick: string): Promise<Element>;
    stop(): Promise<void>;
}

export interface XmppEndpoint {
    readonly host: string;
    readonly port: number;
}

export interface RosterItem {
    readonly jid: string;
    readonly name: string | undefined;
    readonly subscription: string | undefined;
    readonly groups: string[];
}

export function login(
    server: LocalServer,
    jid: string,
    password = server.credentials[jid],
    resource = "test",
): Promise<Session> {
    return loginAt({ host: "127.0.0.1", port: server.listeners.c2sPort }, jid, password, resource);
}

/** Logs a member in at `endpoint`, verifying the certificate for the JID's domain. */
/**
 * What an app says of itself at login (XEP-0388): one stable id per app install, here per member
 * and resource, which FAST tokens (XEP-0484) are bound to.
 */
function userAgent(jid: string, resource: string): Element {
    const hash = createHash("sha256").update(`${jid}/${resource}`).digest("hex");
    const id = [
        hash.slice(0, 8),
        hash.slice(8, 12),
        `4${hash.slice(13, 16)}`,
        `8${hash.slice(17, 20)}`,
        hash.slice(20, 32),
    ];
    return xml(
        "user-agent",
        { id: id.join("-") },
        xml("software", {}, "family-xmpp tests"),
        xml("device", {}, resource),
    );
}

export async function loginAt(
    endpoint: XmppEndpoint,
    jid: string,
    password: string,
    resource = "test",
    /** A FAST token (XEP-0484) the app was given earlier: tried before the password. */
    fastToken?: FastToken,
): Promise<Session> {
    const [username, domain] = jid.split("@");
    const xmpp = client({
        service: `xmpp://${endpoint.host}:${endpoint.port}`,
        domain,
        // The library waits 2 s for each step of the stream's negotiation by default: too short for
        // a busy two-core machine running several servers.
        timeout: 10_000,
        // Known before login, the address goes into the stream header, as apps send it (and as
        // FAST, XEP-0484, needs to offer a token).
        username,
        resource,
        credentials: async (authenticate, mechanisms) => {
            // @xmpp/client encodes SASL messages with btoa(), i.e. as Latin-1, and its SCRAM
            // hashes the UTF-16 string: a username or password such as "åsa" only gets through
            // as its UTF-8 bytes, and only with PLAIN (the connection is TLS by then), which is
            // what the server receives from every mobile and desktop app.
            const ascii = /^[\x00-\x7f]*$/.test(username + password);
            const utf8 = (text: string) => Buffer.from(text, "utf8").toString("latin1");
            await authenticate(
                ascii
                    ? { username, password, token: fastToken }
                    : { username: utf8(username), password: utf8(password), token: fastToken },
                ascii ? mechanisms[0] : "PLAIN",
                userAgent(jid, resource),
            );
        },
    });
    xmpp.reconnect.stop();
    const received: Element[] = [];
    const waiters: { predicate: (stanza: Element) => boolean; resolve: (stanza: Element) => void }[] = [];
    xmpp.on("error", () => undefined);
    const streamFeatures: Element[] = [];
    xmpp.on("nonza", (element) => {
        if (element.is("features", "http://etherx.jabber.org/streams")) streamFeatures.push(element);
    });
    xmpp.on("stanza", (stanza) => {
        received.push(stanza);
        for (const waiter of [...waiters]) {
            if (waiter.predicate(stanza)) {
                waiters.splice(waiters.indexOf(waiter), 1);
                waiter.resolve(stanza);
            }
        }
    });
    await xmpp.start();
    const waitFor = (
        predicate: (stanza: Element) => boolean,
        what: string,
        timeoutMs = 5000,
    ): Promise<Element> => {
        const already = received.find(predicate);
        if (already) return Promise.resolve(already);
        return new Promise((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new Error(`${jid} did not receive ${what} within ${timeoutMs} ms`)),
                timeoutMs,
            );
            waiters.push({
                predicate,
                resolve: (stanza) => {
                    clearTimeout(timer);
                    resolve(stanza);
                },
            });
        });
    };
    return {
        jid,
        fullJid: xmpp.jid?.toString() ?? jid,
        xmpp,
        received,
        streamFeatures,
        waitFor,
        async roster() {
            const result = await xmpp.iqCaller.request(
                xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })),
            );
            const query = result.getChild("query", "jabber:iq:roster");
            return (query?.getChildren("item") ?? []).map((item) => ({
                jid: item.attrs.jid ?? "",
                name: item.attrs.name,
                subscription: item.attrs.subscription,
                groups: item.getChildren("group").map((group) => group.text()),
            }));
        },
        async joinRoom(roomJid, nick) {
            const occupant = `${roomJid}/${nick}`;
            const answer = waitFor(
                (s) => s.is("presence") && s.attrs.from === occupant,
                `the answer of ${roomJid}`,
            );
            await xmpp.send(
                xml(
                    "presence",
                    { to: occupant },
                    xml(
                        "x",
                        { xmlns: "http://jabber.org/protocol/muc" },
                        xml("history", { maxstanzas: "0" }),
                    ),
                ),
            );
            return answer;
        },
        async archivedBodies(archive?: string) {
            const queryid = `archive-${Date.now()}`;
            const bodies: string[] = [];
            const collect = (stanza: Element) => {
                const result = stanza.getChild("result", "urn:xmpp:mam:2");
                if (stanza.is("message") && result?.attrs.queryid === queryid) {
                    const body = result
                        .getChild("forwarded", "urn:xmpp:forward:0")
                        ?.getChild("message")
                        ?.getChildText("body");
                    if (body) bodies.push(body);
                }
            };
            xmpp.on("stanza", collect);
            await xmpp.iqCaller.request(
                xml(
                    "iq",
                    { type: "set", ...(archive ? { to: archive } : {}) },
                    xml("query", { xmlns: "urn:xmpp:mam:2", queryid }),
                ),
            );
            return bodies;
        },
        stop: () => xmpp.stop(),
    };
}
