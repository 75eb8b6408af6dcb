/**
 * The load benchmark's own parts (bench/load.ts), without running it: the family it loads is a
 * valid stack config, the Tsung scenario keeps the total message rate it promises, Tsung's samples
 * are read in both forms Tsung writes them, and the stock server really is Debian's packaged config
 * with only the test server's differences.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { loadFamily, percentile } from "../bench/load";
import { PACKAGED_CONFIG, renderStockConfig } from "../bench/load/stock-prosody";
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
        assert.match(rendered, /^c2s_ports = \{ 29322 \}$/m);
        assert.match(rendered, /^VirtualHost "load\.test"$/m);
    });
});
