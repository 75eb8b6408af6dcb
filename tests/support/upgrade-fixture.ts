import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The data a family's Debian 12 server left on its volume: Prosody 0.12.3's data_path, made by
 * tests/fixtures/prosody-0.12/make-data.ts (see the README there), with what was done to make it.
 */
export const UPGRADE_FIXTURE_DIR = join(__dirname, "..", "fixtures", "prosody-0.12");

/** What the script did on Prosody 0.12, and so what Prosody 13 must find. Written by the script. */
export interface UpgradeFixtureFacts {
    /** The version the server that wrote the data reported (XEP-0092). */
    readonly prosodyVersion: string;
    /** The stack's initial passwords, as Pulumi's state holds them (`credentials.json`). */
    readonly initialPasswords: Readonly<Record<string, string>>;
    /** A member who changed their password from their app: the stack never knew the new one. */
    readonly changedPassword: { readonly jid: string; readonly password: string };
    /** Contacts a member added by hand, besides the groups' (persisted in their roster). */
    readonly ownContacts: {
        readonly owner: string;
        readonly items: readonly { jid: string; name: string; group: string }[];
    };
    /** One-to-one messages: each in both members' archives. */
    readonly chat: readonly { from: string; to: string; body: string }[];
    /** Sent while the recipient was offline; delivered at their next login. */
    readonly offline: { readonly from: string; readonly to: string; readonly body: string };
    /** The group's room: its subject and a message in its archive. */
    readonly familyRoom: { readonly jid: string; readonly subject: string; readonly body: string };
    /** A room a member created from their app: its member list and a message in its archive. */
    readonly ownRoom: {
        readonly jid: string;
        readonly owner: string;
        readonly members: readonly string[];
        readonly body: string;
    };
    /** PEP items a member published: a bookmark (XEP-0402) and an avatar (XEP-0084). */
    readonly pep: {
        readonly owner: string;
        readonly bookmark: { readonly room: string; readonly name: string };
        readonly avatar: { readonly id: string; readonly base64: string };
    };
    /** A file shared in a chat (XEP-0363): its URL's path and its SHA-256. */
    readonly sharedFile: { readonly path: string; readonly sha256: string; readonly bytes: number };
}

export function upgradeFixtureFacts(): UpgradeFixtureFacts {
    return JSON.parse(readFileSync(join(UPGRADE_FIXTURE_DIR, "facts.json"), "utf8")) as UpgradeFixtureFacts;
}
