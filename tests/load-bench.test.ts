/**
 * The load benchmark's own parts (bench/load.ts), without running it: the family it loads is a
 * valid stack config, the Tsung scenario keeps the total message rate it promises, Tsung's samples
 * are read in both forms Tsung writes them, the messages the server stored are counted from its
 * archive files, and the stock server really is Debian's packaged config with only the test
 * server's differences.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadFamily, percentile, renderMessageCounts } from "../bench/load";
import { PACKAGED_CONFIG, renderStockConfig } from "../bench/load/stock-prosody";
import { countStoredMessages, dataPathOf, parseArchiveList } from "../bench/load/stored-messages";
import {
    parseCounters,
    parseFullstats,
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
            assert.deepEqual(countStoredMessages(dataPath, "load.test", since), { archived: 4, offline: 1 });
            assert.deepEqual(countStoredMessages(dataPath, "other.test", since), { archived: 0, offline: 0 });
        } finally {
            rmSync(dataPath, { recursive: true, force: true });
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
