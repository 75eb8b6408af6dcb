/**
 * The server's side of bench/load.ts's message count: Tsung counts a delivered message only when
 * it reads it alone and within its window, so its count is a lower bound. Every chat message the
 * server accepted for a member is in that member's message archive (mod_mam keeps the recipient's
 * copy whether it went out live or to offline storage), which Prosody's internal storage keeps
 * in `<data_path>/<host>/archive/<user>.list`, or with SQL storage in SQLite's default database,
 * `<data_path>/prosody.sqlite`; messages still waiting for a member who never came back are in
 * `<host>/offline/<user>.list` as well.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";

export interface ArchivedMessage {
    readonly when: number;
    readonly from: string;
    readonly to: string;
    readonly type: string;
    readonly body: string;
}

const bare = (jid: string) => jid.split("/")[0];
/** Prosody's file names: the name with every character but letters and digits as %xx. */
const decodeStoreName = (name: string) => decodeURIComponent(name);
const encodeStoreName = (name: string) =>
    name.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/**
 * The messages in one `.list` file, which holds one Lua call `item({ … });` per stanza: the
 * stanza's own attributes are the only string keys two tabs deep (its children's are deeper), the
 * time it was stored is one tab deep.
 */
export function parseArchiveList(text: string): ArchivedMessage[] {
    return text
        .split(/^item\(\{$/m)
        .slice(1)
        .map((item) => {
            const attribute = (name: string) =>
                new RegExp(`^\\t\\t\\["${name}"\\] = "((?:[^"\\\\]|\\\\.)*)";$`, "m").exec(item)?.[1] ?? "";
            return {
                when: Number(/^\t\["when"\] = ([0-9.e+]+);$/m.exec(item)?.[1] ?? NaN),
                from: attribute("from"),
                to: attribute("to"),
                type: attribute("type"),
                body: /^\t\t"((?:[^"\\]|\\.)*)";$/m.exec(item)?.[1] ?? "",
            };
        });
}

/** One stanza as Prosody's SQL store keeps it: serialised XML, attributes in single quotes. */
export function parseStanzaXml(xml: string, when: number): ArchivedMessage {
    const openingTag = /^<message\b[^>]*>/.exec(xml)?.[0] ?? "";
    const attribute = (name: string) => new RegExp(`\\s${name}='([^']*)'`).exec(openingTag)?.[1] ?? "";
    return {
        when,
        from: attribute("from"),
        to: attribute("to"),
        type: attribute("type"),
        body: /<body>([^<]*)<\/body>/.exec(xml)?.[1] ?? "",
    };
}

/** Prosody's SQLite database under `dataPath` (SQL storage's default), if there is one. */
function prosodyDatabase(dataPath: string, options: { readOnly: boolean }): DatabaseSync | undefined {
    const databaseFile = join(dataPath, "prosody.sqlite");
    if (!existsSync(databaseFile)) return undefined;
    // Only when there is a database: Node warns that node:sqlite is experimental when loaded.
    const { DatabaseSync } = require("node:sqlite") as typeof import("node:sqlite");
    return new DatabaseSync(databaseFile, options);
}

/** Each owner's archived stanzas in one store, from the internal store's files or SQLite's. */
function archivesOf(dataPath: string, host: string, store: string): Map<string, ArchivedMessage[]> {
    const archives = new Map<string, ArchivedMessage[]>();
    const add = (owner: string, messages: ArchivedMessage[]) => {
        const known = archives.get(owner);
        if (known) known.push(...messages);
        else archives.set(owner, messages);
    };
    const dir = join(dataPath, encodeStoreName(host), store);
    for (const name of existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith(".list")) : []) {
        const owner = `${decodeStoreName(name.slice(0, -".list".length))}@${host}`;
        add(owner, parseArchiveList(readFileSync(join(dir, name), "utf8")));
    }
    const database = prosodyDatabase(dataPath, { readOnly: true });
    if (database) {
        try {
            const rows = database
                .prepare(
                    'SELECT "user", "when", "value" FROM "prosodyarchive" WHERE "host" = ? AND "store" = ?',
                )
                .all(host, store) as { user: string; when: number; value: string }[];
            for (const row of rows) add(`${row.user}@${host}`, [parseStanzaXml(row.value, row.when)]);
        } finally {
            database.close();
        }
    }
    return archives;
}

export interface StoredCount {
    /** Chat messages in their recipients' archives: each counted once, however many copies. */
    readonly archived: number;
    /** Of all chat messages, how many still wait in offline storage (their recipient left). */
    readonly offline: number;
    /**
     * For each stored message Tsung stamped, milliseconds from Tsung sending it to the server
     * storing the recipient's copy (mod_mam stores it as it delivers it), by when it was sent.
     */
    readonly toStoredMs: readonly { readonly sent: number; readonly ms: number }[];
}

/**
 * When Tsung sent a message, in Unix seconds, from the stamp it puts in front of the body:
 * `@@@<id>,<megaseconds>;<seconds>;<microseconds>@@@` (Erlang's clock, the server's machine).
 */
export function sentAtOfStamp(body: string): number {
    const stamp = /^@@@\d+,(\d+);(\d+);(\d+)@@@/.exec(body);
    return stamp ? Number(stamp[1]) * 1e6 + Number(stamp[2]) + Number(stamp[3]) / 1e6 : NaN;
}

/** Chat messages that `host` stored for their recipients since `sinceSeconds` (Unix time). */
export function countStoredMessages(dataPath: string, host: string, sinceSeconds: number): StoredCount {
    const chatSince = (message: ArchivedMessage) => message.type === "chat" && message.when >= sinceSeconds;
    const received = new Map<string, ArchivedMessage>();
    for (const [owner, messages] of archivesOf(dataPath, host, "archive")) {
        for (const message of messages.filter(chatSince)) {
            // Only the recipient's copy counts: the sender's is stored even when the recipient's is
            // not. A message to oneself has both copies in one archive, and counts once.
            const key = [message.from, message.to, message.body].join("\n");
            if (bare(message.to) === owner && !received.has(key)) received.set(key, message);
        }
    }
    let offline = 0;
    for (const messages of archivesOf(dataPath, host, "offline").values()) {
        offline += messages.filter(chatSince).length;
    }
    const toStoredMs = [...received.values()].flatMap((message) => {
        const sent = sentAtOfStamp(message.body);
        return Number.isNaN(sent) ? [] : [{ sent, ms: (message.when - sent) * 1000 }];
    });
    return { archived: received.size, offline, toStoredMs };
}

/**
 * Empties `host`'s offline storage and message archives, in files and in SQLite, before a run.
 * Offline: a run's members who left before their messages arrived find them on the next run's
 * login, stamped minutes or hours earlier; Tsung would count those as that run's latencies.
 * Archives: each member's first message after the server starts loads that member's whole archive
 * (Prosody counts it against its limit of 10,000 messages), so archives grown by the runs before
 * made the first seconds of each run's chat slower than the last.
 */
export function dropStoredMessages(dataPath: string, host: string): void {
    for (const store of ["offline", "archive"]) {
        rmSync(join(dataPath, encodeStoreName(host), store), { recursive: true, force: true });
    }
    const database = prosodyDatabase(dataPath, { readOnly: false });
    if (!database) return;
    try {
        database
            .prepare(`DELETE FROM "prosodyarchive" WHERE "host" = ? AND "store" IN ('offline', 'archive')`)
            .run(host);
    } finally {
        database.close();
    }
}

/** Where a Prosody config keeps its data: its `data_path`. */
export function dataPathOf(configText: string): string {
    const path = /^data_path = "([^"]+)"/m.exec(configText)?.[1];
    if (!path) throw new Error("the config sets no data_path");
    return path;
}
