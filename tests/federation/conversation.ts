import { randomBytes } from "node:crypto";
import { Element, xml } from "@xmpp/client";
import { Session } from "../support/xmpp";

const MUC_USER = "http://jabber.org/protocol/muc#user";

/** What became of a message: it arrived, or the sender got an error back (its condition and text). */
export type Delivery = { readonly delivered: true } | { readonly delivered: false; readonly error: string };

/** `from` writes to `to`'s bare address; waits for the message to arrive or an error to come back. */
export async function deliver(from: Session, to: Session | string, timeoutMs = 20_000): Promise<Delivery> {
    const address = typeof to === "string" ? to : to.jid;
    const body = `${from.jid} to ${address}: ${randomBytes(4).toString("hex")}`;
    const id = randomBytes(6).toString("hex");
    const bounced = from.waitFor(
        (s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === id,
        `an error for the message to ${address}`,
        timeoutMs,
    );
    const arrived =
        typeof to === "string"
            ? new Promise<never>(() => undefined)
            : to.waitFor(
                  (s) => s.is("message") && s.getChildText("body") === body,
                  `the message from ${from.jid}`,
                  timeoutMs,
              );
    await from.xmpp.send(xml("message", { to: address, type: "chat", id }, xml("body", {}, body)));
    const outcome = await Promise.race([
        arrived.then((): Delivery => ({ delivered: true })),
        bounced.then((error): Delivery => ({ delivered: false, error: describeError(error) })),
    ]);
    // The loser of the race times out later; nobody waits for it.
    arrived.catch(() => undefined);
    bounced.catch(() => undefined);
    return outcome;
}

/** `condition: text` of a stanza's error, or the condition alone when it has no text. */
export function describeError(stanza: Element): string {
    const error = stanza.getChild("error");
    const condition = error?.children.find(
        (child): child is Element => typeof child !== "string" && child.name !== "text",
    )?.name;
    const text = error?.getChildText("text");
    return text ? `${condition}: ${text}` : `${condition}`;
}

/**
 * XEP-0045 10.1.2: a new room is locked until its owner accepts the default configuration (an
 * "instant room"); then it is open with that configuration.
 */
export async function createInstantRoom(owner: Session, room: string, nick: string): Promise<void> {
    const presence = await owner.joinRoom(room, nick);
    const statuses = presence
        .getChild("x", MUC_USER)
        ?.getChildren("status")
        .map((status) => status.attrs.code);
    if (!statuses?.includes("201")) throw new Error(`${room} already existed: ${presence}`);
    await owner.xmpp.iqCaller.request(
        xml(
            "iq",
            { type: "set", to: room },
            xml(
                "query",
                { xmlns: "http://jabber.org/protocol/muc#owner" },
                xml("x", { xmlns: "jabber:x:data", type: "submit" }),
            ),
        ),
    );
}

/**
 * A mediated invitation (XEP-0045 7.8.2): the room passes it on, and makes the guest a member of a
 * members-only room.
 */
export async function invite(owner: Session, room: string, guest: string): Promise<void> {
    await owner.xmpp.send(
        xml("message", { to: room }, xml("x", { xmlns: MUC_USER }, xml("invite", { to: guest }))),
    );
}

/** The error of a room's answer to a join (`condition: text`), or undefined when it let the occupant in. */
export function refusal(presence: Element): string | undefined {
    return presence.attrs.type === "error" ? describeError(presence) : undefined;
}
