/**
 * The load benchmark's own parts (bench/load.ts), without running it: the family it loads is a
 * valid stack config, the Tsung scenario keeps the total message rate it promises, Tsung's samples
 * are read in both forms Tsung writes them, the messages the server stored are counted from its
 * archive files, and the stock server really is Debian's packaged config with only the test
 * server's differences.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import {
    allOnlineMs,
    caughtUpAt,
    caughtUpMs,
    loadFamily,
    p99ByTenSeconds,
    percentile,
    renderMessageCounts,
} from "../bench/load";
import { PACKAGED_CONFIG, renderStockConfig } from "../bench/load/stock-prosody";
import {
    countStoredMessages,
    dataPathOf,
    dropStoredMessages,
    parseArchiveList,
    parseStanzaXml,
} from "../bench/load/stored-messages";
import {
    parseCounters,
    parseFullstats,
    parseLoginsEndedBy,
    parseLogoutsBeganAfter,
    renderTsungScenario,
    Scenario,
    sessionTiming,
} from "../bench/load/tsung";
import { hasTool } from "./support/tools";

const scenario = (members: number, messagesPerSecond: number): Scenario => ({
    domain: "load.test",
    port: 29222,
    members,
    loginSeconds: 30,
    chatSeconds: 60,
    messagesPerSecond,
    usernamePrefix: "member",
    passwordPrefix: "secret-of-member",
});

/** One stanza as Prosody's internal archive store writes it into a `.list` file. */
const archiveItem = (when: number, from: string, to: string, body: string, type = "chat") =>
    [
        "item({",
        "\t{",
        `\t\t"${body}";`,
        '\t\t["name"] = "body";',
        '\t\t["attr"] = {};',
        "\t};",
        '\t["name"] = "message";',
        `\t["with"] = "${to.split("/")[0]}";`,
        `\t["when"] = ${when};`,
        '\t["attr"] = {',
        `\t\t["from"] = "${from}";`,
        `\t\t["type"] = "${type}";`,
        `\t\t["to"] = "${to}";`,
        '\t\t["id"] = "701";',
        "\t};",
        '\t["key"] = "06b0826a-88a4-7f24-8131-79c4d7ba25e2";',
        "});",
        "",
    ].join("\n");

describe("the load benchmark", () => {
    it("loads a family of up to 1000 members in one group, through the stack config's validation", () => {
        const model = loadFamily(1000);
        assert.equal(model.members.length, 1000);
        assert.deepEqual(
            model.groups.map((group) => group.members.length),
            [1000],
        );
        assert.equal(model.members[999].username, "member1000");
    });

    for (const [members, rate] of [
        [100, 100],
        [500, 100],
        [1000, 100],
        [500, 20],
    ]) {
        it(`sends ${rate} messages a second in all from ${members} members, after the login window`, () => {
            const timing = sessionTiming(scenario(members, rate));
            assert.equal(members / timing.messageInterval, rate);
            assert.ok(
                Math.abs(timing.messagesEach * timing.messageInterval - 60) <= timing.messageInterval / 2,
            );
            assert.ok(timing.settleSeconds > 30);
            const xml = renderTsungScenario(scenario(members, rate));
            assert.match(
                xml,
                new RegExp(`<users maxnumber="${members}" interarrival="${(30 / members).toFixed(4)}"`),
            );
            assert.match(xml, new RegExp(`<thinktime value="${timing.messageInterval.toFixed(3)}"/>`));
            assert.match(
                xml,
                /<jabber type="chat" ack="no_ack" size="64" destination="online" stamped="true"\/>/,
            );
        });
    }

    it("reads Tsung's samples written one by one and in batches, and its counters' totals", () => {
        const figures = parseFullstats(
            [
                "{sample,tr_login,120.5}",
                "[{sample,tr_login,[130.25,1.5e3]},{sample,xmpp_msg_latency,[0.8,12]}]",
                "{sample,tr_message,[1,2,3]}",
                "{sample,xmpp_starttls,9}",
            ].join("\n"),
        );
        assert.deepEqual(figures.loginMs, [120.5, 130.25, 1500]);
        assert.deepEqual(figures.messageLatencyMs, [0.8, 12]);
        assert.equal(figures.messagesSent, 3);
        const log = "stats: users_count 0 96\nstats: error_connect_econnrefused 2 2\nstats: connected -7 0\n";
        assert.deepEqual(parseCounters(`${log}stats: error_connect_econnrefused 0 5\n`), {
            users_count: 96,
            error_connect_econnrefused: 5,
            connected: 0,
        });
        const periods = [
            "# stats: dump at 1795708644",
            "stats: tr_login 113 9587.3 1368.5 13851.3 267.4 3263.7 319",
            "stats: finish_users_count 0 0",
            "# stats: dump at 1795708654",
            "stats: tr_login 68 11734.2 1401.6 14406.4 267.4 4917.8 432",
            "stats: finish_users_count 0 0",
            "# stats: dump at 1795708664",
            "stats: tr_login 0 0 0 14406.454 267.419 5844.8 500",
            "stats: finish_users_count 0 0",
            "# stats: dump at 1795708674",
            "stats: finish_users_count 100 100",
            "# stats: dump at 1795708684",
            "stats: finish_users_count 117 217",
            "",
        ].join("\n");
        // Logins finished in the period that ended at …654; the first logouts in the one after …664.
        assert.equal(parseLoginsEndedBy(periods), 1795708654);
        assert.equal(parseLogoutsBeganAfter(periods), 1795708664);
        assert.equal(parseLogoutsBeganAfter(periods.split("# stats: dump at 1795708674")[0]), Infinity);
        assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
        assert.equal(percentile([...Array(100).keys()], 99), 98);
    });

    it("counts each chat message stored for its recipient since the run began, once", () => {
        const dataPath = mkdtempSync(join(tmpdir(), "load-bench-"));
        try {
            const since = 1795696000;
            const [a, b] = ["member1@load.test", "member2@load.test"];
            // member1 sent two to member2 and one to themself; member2 sent one to member1;
            // one message to member2 came in an earlier run, one is not a chat message, and one
            // ("lost") the server kept only for its sender.
            const inArchive: Record<string, string[]> = {
                member1: [
                    archiveItem(since + 1, `${a}/tsung`, b, "one"),
                    archiveItem(since + 2, `${a}/tsung`, b, "two"),
                    archiveItem(since + 3, `${a}/tsung`, a, "self"),
                    archiveItem(since + 3.01, `${a}/tsung`, a, "self"),
                    archiveItem(since + 4, `${b}/tsung`, a, "three"),
                    archiveItem(since + 5, `${a}/tsung`, b, "lost"),
                ],
                member2: [
                    archiveItem(since - 60, `${a}/tsung`, b, "old"),
                    archiveItem(since + 1.2, `${a}/tsung`, b, "one"),
                    archiveItem(since + 2.3, `${a}/tsung`, b, "two"),
                    archiveItem(since + 4, `${b}/tsung`, a, "three"),
                    archiveItem(since + 5, `${b}/tsung`, b, "headline", "headline"),
                ],
            };
            const host = join(dataPath, "load%2etest");
            for (const [store, lists] of [
                ["archive", inArchive],
                ["offline", { member2: [archiveItem(since + 2.3, `${a}/tsung`, b, "two")] }],
            ] as const) {
                mkdirSync(join(host, store), { recursive: true });
                for (const [user, items] of Object.entries(lists)) {
                    writeFileSync(join(host, store, `${user}.list`), items.join(""));
                }
            }
            const parsed = parseArchiveList(inArchive.member2.join(""));
            assert.deepEqual(parsed[1], {
                when: since + 1.2,
                from: `${a}/tsung`,
                to: b,
                type: "chat",
                body: "one",
            });
            assert.equal(parsed.length, inArchive.member2.length);
            // "one", "two" to member2, "self" and "three" to member1.
            const counted = (host: string) => {
                const { archived, offline } = countStoredMessages(dataPath, host, since);
                return { archived, offline };
            };
            assert.deepEqual(counted("load.test"), { archived: 4, offline: 1 });
            assert.deepEqual(counted("other.test"), { archived: 0, offline: 0 });
            // Before each run: nothing left from the one before, on this host only.
            mkdirSync(join(dataPath, "other%2etest", "archive"), { recursive: true });
            dropStoredMessages(dataPath, "load.test");
            assert.deepEqual(counted("load.test"), { archived: 0, offline: 0 });
            assert.ok(existsSync(join(dataPath, "other%2etest", "archive")));
        } finally {
            rmSync(dataPath, { recursive: true, force: true });
        }
    });

    it("counts the messages in SQLite's archive too, as Prosody's SQL store writes them", () => {
        const dataPath = mkdtempSync(join(tmpdir(), "load-bench-"));
        const database = new DatabaseSync(join(dataPath, "prosody.sqlite"));
        try {
            const since = 1795706600;
            const columns = ["host", "user", "store", "key", "when", "with", "type", "value"];
            // Prosody's table, but for its indexes and the types of its columns (TEXT but "when").
            database.exec(
                'CREATE TABLE "prosodyarchive" ("sort_id" INTEGER PRIMARY KEY AUTOINCREMENT, ' +
                    columns
                        .map((name) => `"${name}" ${name === "when" ? "INTEGER" : "TEXT"} NOT NULL`)
                        .join(", ") +
                    ")",
            );
            const insert = database.prepare(
                `INSERT INTO "prosodyarchive" (${columns.map((name) => `"${name}"`).join(", ")}) ` +
                    "VALUES ('load.test', ?, 'archive', ?, ?, ?, 'xml', ?)",
            );
            const stanza = (from: string, to: string, body: string) =>
                `<message from='${from}/tsung' type='chat' id='7' xml:lang='en' to='${to}'>` +
                `<body>${body}</body></message>`;
            const [a, b] = ["member3@load.test", "member14@load.test"];
            // The sender's and the recipient's copy of one message, one to member3, and one older;
            // "hello" as Tsung stamps it: sent at since + 15.6 (megaseconds; seconds; microseconds).
            const hello = `@@@1199,${Math.floor(since / 1e6)};${(since % 1e6) + 15};600000@@@hello`;
            insert.run("member3", "k1", since + 15.68, b, stanza(a, b, hello));
            insert.run("member14", "k2", since + 15.7, a, stanza(a, b, hello));
            insert.run("member3", "k3", since + 16, b, stanza(b, a, "back"));
            insert.run("member14", "k4", since - 60, a, stanza(a, b, "old"));
            assert.deepEqual(parseStanzaXml(stanza(a, b, "hello"), since), {
                when: since,
                from: `${a}/tsung`,
                to: b,
                type: "chat",
                body: "hello",
            });
            const stored = countStoredMessages(dataPath, "load.test", since);
            assert.equal(stored.archived, 2);
            assert.equal(stored.offline, 0);
            // Only the stamped message has a time from sending to storing: the recipient's copy's.
            assert.equal(stored.toStoredMs.length, 1);
            assert.equal(stored.toStoredMs[0].sent, since + 15.6);
            assert.ok(Math.abs(stored.toStoredMs[0].ms - 100) < 1e-3, `${stored.toStoredMs[0].ms}`);
            const run = { stored, loginsEndedBy: since + 10, logoutsBeganAfter: since + 16 };
            assert.equal(allOnlineMs(run).length, 1);
            assert.equal(allOnlineMs({ ...run, loginsEndedBy: since + 20 }).length, 0);
            assert.equal(allOnlineMs({ ...run, logoutsBeganAfter: since + 15.6 }).length, 0);
            // Caught up: the end of the first second after the last login's period under 90 % of a core.
            const second = (at: number, busy: number) => ({ at: since + at, busy });
            const busyBySecond = [second(9, 0.5), second(11, 1), second(12, 0.95), second(13, 0.4)];
            assert.equal(caughtUpAt({ ...run, busyBySecond }), since + 13);
            assert.equal(caughtUpMs({ ...run, busyBySecond }).length, 1);
            assert.equal(caughtUpMs({ ...run, busyBySecond: [...busyBySecond, second(17, 0.3)] }).length, 1);
            assert.equal(caughtUpMs({ ...run, busyBySecond: [second(16, 0.5)] }).length, 0);
            assert.ok(Number.isNaN(caughtUpAt({ ...run, busyBySecond: busyBySecond.slice(0, 3) })));
            // Windows of 10 s from the first message sent; an empty one has no p99.
            const sent = (at: number, ms: number) => ({ sent: since + at, ms });
            assert.deepEqual(p99ByTenSeconds([sent(0, 5), sent(9.9, 300), sent(25, 7)]), [300, NaN, 7]);
            dropStoredMessages(dataPath, "load.test");
            assert.equal(countStoredMessages(dataPath, "load.test", since - 3600).archived, 0);
        } finally {
            database.close();
            rmSync(dataPath, { recursive: true, force: true });
        }
    });

    it("profiles the server by Lua function, coroutines included, the costliest first", (t) => {
        if (!hasTool(t, "lua5.4", "lua5.4")) return;
        const dir = mkdtempSync(join(tmpdir(), "lua-profile-"));
        try {
            // As in Prosody: the work runs in a coroutine made after the profiler started.
            const script = join(dir, "work.lua");
            const report = join(dir, "report.txt");
            const profiler = join(__dirname, "..", "bench", "load", "lua-profile.lua");
            writeFileSync(
                script,
                [
                    `local profile = dofile(${JSON.stringify(profiler)})`,
                    "profile.start(1000)",
                    "local function light() local x = 0; for i = 1, 2e5 do x = x + i % 7 end; return x end",
                    "local function heavy() local x = 0; for i = 1, 4e6 do x = x + i % 7 end; return x end",
                    "coroutine.resume(coroutine.create(function() light(); heavy() end))",
                    `print(profile.stop(${JSON.stringify(report)}))`,
                    "",
                ].join("\n"),
            );
            const run = spawnSync("lua5.4", [script], { encoding: "utf8" });
            assert.equal(run.status, 0, run.stderr);
            const text = readFileSync(report, "utf8");
            const self = text.split("Self:\n")[1].split("\n");
            assert.match(self[0], new RegExp(`%\\s+[0-9.]+ s\\s+${script}:4 \\(heavy\\)$`));
            assert.match(text, new RegExp(`${script}:3 \\(light\\)`));
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("dates the server's stalls, the collections and a late event loop, coroutines included", (t) => {
        if (!hasTool(t, "lua5.4", "lua5.4")) return;
        const dir = mkdtempSync(join(tmpdir(), "lua-timeline-"));
        try {
            const script = join(dir, "work.lua");
            const report = join(dir, "timeline.txt");
            const timeline = join(__dirname, "..", "bench", "load", "lua-timeline.lua");
            // Prosody's clock and timer, stood in for: the test runs the one timer task itself.
            writeFileSync(
                script,
                [
                    'package.preload["prosody.util.time"] = function() return { now = os.clock } end',
                    "local tasks = {}",
                    'package.preload["prosody.util.timer"] = function()',
                    "    return { add_task = function(_, task) tasks[#tasks + 1] = task end }",
                    "end",
                    `local timeline = dofile(${JSON.stringify(timeline)})`,
                    `timeline.start(${JSON.stringify(report)}, 1000, 0.01)`,
                    "coroutine.resume(coroutine.create(function()",
                    "    local live = {}",
                    "    for i = 1, 1e6 do live[i] = { i } end",
                    '    collectgarbage("collect")',
                    "    for _ = 1, 1e4 do end",
                    "end))",
                    "local busy = os.clock()",
                    "while os.clock() - busy < 0.05 do end",
                    "tasks[1]()",
                    "print(timeline.stop())",
                    "",
                ].join("\n"),
            );
            const run = spawnSync("lua5.4", [script], { encoding: "utf8" });
            assert.equal(run.status, 0, run.stderr);
            const text = readFileSync(report, "utf8");
            // The full collection: one long interval that ends in the coroutine (line 12, after it),
            // in which a collection ended.
            assert.match(text, /^stall .* collections [1-9]\d*  at work\.lua:12\b/m);
            assert.match(text, /^collection +1 ended /m);
            assert.match(text, /^late .* ms$/m);
            assert.match(text, /^# [1-9]\d* collections; \d+ waits /m);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("shows sent and delivered live as Tsung counts them, stored and lost as the server does", () => {
        assert.equal(
            renderMessageCounts(2000, 1900, { archived: 1998, offline: 3 }),
            "2000 / 1900 (95.0 %) / 1998 (3 offline) / 2",
        );
        assert.equal(renderMessageCounts(10, 10, { archived: 10, offline: 0 }), "10 / 10 (100.0 %) / 10 / 0");
        assert.equal(dataPathOf('-- data\ndata_path = "/var/tmp/x/data"\n'), "/var/tmp/x/data");
        assert.throws(() => dataPathOf("-- none\n"), /data_path/);
    });

    it("runs Debian's packaged Prosody config with only the test server's differences", (t) => {
        if (!hasTool(t, "prosodyctl", "prosody") || !existsSync(PACKAGED_CONFIG)) return;
        const packaged = readFileSync(PACKAGED_CONFIG, "utf8");
        const rendered = renderStockConfig(packaged, loadFamily(3), "/var/tmp/stock", 29322);
        const removed = packaged
            .split("\n")
            .filter((line) => !rendered.split("\n").includes(line) && !/^\s*(--.*)?$/.test(line));
        assert.deepEqual(
            removed.map((line) => line.trim().split(/\s|=/)[0]),
            ["pidfile", "log", "info", "error", "{", "certificates", "VirtualHost", "Include"],
        );
        assert.match(rendered, /^\t\t"groups"; -- the family group \(bench\)$/m);
        assert.match(rendered, /^\t\t"mam"; -- the count of messages stored \(bench\)$/m);
        assert.match(rendered, /^c2s_ports = \{ 29322 \}$/m);
        assert.match(rendered, /^VirtualHost "load\.test"$/m);
    });
});
