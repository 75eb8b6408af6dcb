import { Client, client, Element, xml } from "@xmpp/client";
import { LocalServer } from "../../scripts/local-server";

/** A member logged in with @xmpp/client over STARTTLS, recording every stanza it receives. */
export interface Session {
    readonly jid: string;
    readonly xmpp: Client;
    readonly received: Element[];
    waitFor(predicate: (stanza: Element) => boolean, what: string, timeoutMs?: number): Promise<Element>;
    roster(): Promise<RosterItem[]>;
    stop(): Promise<void>;
}

export interface RosterItem {
    readonly jid: string;
    readonly name: string | undefined;
    readonly subscription: string | undefined;
    readonly groups: string[];
}

export async function login(server: LocalServer, jid: string, password = server.credentials[jid], resource = "test"): Promise<Session> {
    const [username, domain] = jid.split("@");
    const xmpp = client({
        service: `xmpp://127.0.0.1:${server.listeners.c2sPort}`,
        domain,
        resource,
        credentials: async (authenticate, mechanisms) => {
            // @xmpp/client encodes SASL messages with btoa(), i.e. as Latin-1, and its SCRAM
            // hashes the UTF-16 string: a username such as "åsa" only gets through as its UTF-8
            // bytes, and only with PLAIN (the connection is TLS by then), as apps send it.
            const ascii = /^[\x00-\x7f]*$/.test(username);
            await authenticate(
                { username: ascii ? username : Buffer.from(username, "utf8").toString("latin1"), password },
                ascii ? mechanisms[0] : "PLAIN",
            );
        },
    });
    xmpp.reconnect.stop();
    const received: Element[] = [];
    const waiters: { predicate: (stanza: Element) => boolean; resolve: (stanza: Element) => void }[] = [];
    xmpp.on("error", () => undefined);
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
    return {
        jid,
        xmpp,
        received,
        waitFor(predicate, what, timeoutMs = 5000) {
            const already = received.find(predicate);
            if (already) return Promise.resolve(already);
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`${jid} did not receive ${what} within ${timeoutMs} ms`)), timeoutMs);
                waiters.push({ predicate, resolve: (stanza) => { clearTimeout(timer); resolve(stanza); } });
            });
        },
        async roster() {
            const result = await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
            const query = result.getChild("query", "jabber:iq:roster");
            return (query?.getChildren("item") ?? []).map((item) => ({
                jid: item.attrs.jid ?? "",
                name: item.attrs.name,
                subscription: item.attrs.subscription,
                groups: item.getChildren("group").map((group) => group.text()),
            }));
        },
        stop: () => xmpp.stop(),
    };
}
