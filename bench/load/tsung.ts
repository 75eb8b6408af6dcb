/**
 * Tsung's side of bench/load.ts: the scenario (one session per family member: STARTTLS, SASL,
 * roster, presence, chat at a fixed total rate, logout) and the figures read back from Tsung's
 * `fullstats` log, which holds every sample rather than Tsung's 10-second means.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Scenario {
    readonly domain: string;
    readonly port: number;
    readonly members: number;
    /** Members log in one after the other, evenly spread over this many seconds. */
    readonly loginSeconds: number;
    /** How long everyone chats, and how many messages a second all members send together. */
    readonly chatSeconds: number;
    readonly messagesPerSecond: number;
    /** Usernames and passwords are the prefix plus the member's number (Tsung's scheme). */
    readonly usernamePrefix: string;
    readonly passwordPrefix: string;
}

/** How one member's session is timed: the chat starts after the last login was due. */
export function sessionTiming(scenario: Scenario) {
    const messageInterval = scenario.members / scenario.messagesPerSecond;
    const messagesEach = Math.max(1, Math.round(scenario.chatSeconds / messageInterval));
    // Everyone waits for the whole login window (and a margin) before chatting, and after
    // chatting waits as long again before logging out, so that nobody leaves while others still
    // send: a message is then only ever sent to someone online. Tsung's arrivals are random
    // (exponential gaps), so the last of N arrives at about the window's end, give or take the
    // window divided by √N: the margin is three times that, and at least two seconds.
    const arrivalSpread = scenario.loginSeconds / Math.sqrt(scenario.members);
    const settleSeconds = scenario.loginSeconds + Math.max(2, Math.ceil(3 * arrivalSpread));
    return { messageInterval, messagesEach, settleSeconds };
}

export function renderTsungScenario(scenario: Scenario): string {
    const { messageInterval, messagesEach, settleSeconds } = sessionTiming(scenario);
    const interarrival = scenario.loginSeconds / scenario.members;
    // A server that cannot keep up must not keep Tsung waiting for ever: two minutes past the plan.
    const limitSeconds = scenario.loginSeconds + 2 * settleSeconds + scenario.chatSeconds + 120;
    const jabber = (type: string, ack: string, extra = "") =>
        `      <request><jabber type="${type}" ack="${ack}"${extra}/></request>`;
    return [
        '<?xml version="1.0"?>',
        '<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">',
        '<tsung loglevel="warning" backend="fullstats" version="1.0">',
        "  <clients>",
        `    <client host="localhost" use_controller_vm="true" maxusers="${scenario.members + 10}"/>`,
        "  </clients>",
        "  <servers>",
        `    <server host="127.0.0.1" port="${scenario.port}" type="tcp"/>`,
        "  </servers>",
        `  <load duration="${limitSeconds}" unit="second">`,
        // Tsung's arrivals are random (exponential gaps averaging `interarrival`): the phase is
        // twice the login window so that every member starts; most do within the window.
        `    <arrivalphase phase="1" duration="${2 * scenario.loginSeconds}" unit="second">`,
        `      <users maxnumber="${scenario.members}" interarrival="${interarrival.toFixed(4)}" ` +
            'unit="second"/>',
        "    </arrivalphase>",
        "  </load>",
        "  <options>",
        `    <option type="ts_jabber" name="domain" value="${scenario.domain}"/>`,
        `    <option type="ts_jabber" name="userid_max" value="${scenario.members}"/>`,
        `    <option type="ts_jabber" name="username" value="${scenario.usernamePrefix}"/>`,
        `    <option type="ts_jabber" name="passwd" value="${scenario.passwordPrefix}"/>`,
        "  </options>",
        "  <sessions>",
        '    <session name="member" probability="100" type="ts_jabber" bidi="true">',
        '      <transaction name="login">',
        jabber("connect", "local"),
        jabber("starttls", "bidi_ack"),
        jabber("connect", "local"),
        jabber("auth_sasl", "local"),
        jabber("connect", "local"),
        jabber("auth_sasl_bind", "local"),
        jabber("auth_sasl_session", "local"),
        jabber("iq:roster:get", "local"),
        "      </transaction>",
        jabber("presence:initial", "no_ack"),
        `      <thinktime value="${settleSeconds}"/>`,
        `      <for from="1" to="${messagesEach}" var="i">`,
        `        <thinktime value="${messageInterval.toFixed(3)}"/>`,
        '        <transaction name="message">',
        `  ${jabber("chat", "no_ack", ' size="64" destination="online" stamped="true"')}`,
        "        </transaction>",
        "      </for>",
        `      <thinktime value="${settleSeconds}"/>`,
        jabber("close", "no_ack"),
        "    </session>",
        "  </sessions>",
        "</tsung>",
        "",
    ].join("\n");
}

/** Runs Tsung on `configFile`, its logs in `logDir`; resolves with the run's own log directory. */
export function runTsung(configFile: string, logDir: string, cpu?: number): Promise<string> {
    const command = ["tsung", "-f", configFile, "-l", logDir, "start"];
    const pinned = cpu === undefined ? command : ["taskset", "-c", String(cpu), ...command];
    return new Promise((done, fail) => {
        const tsung = spawn(pinned[0], pinned.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        tsung.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        tsung.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        tsung.on("exit", (code) => {
            const runs = readdirSync(logDir).filter((name) => /^\d{8}-\d{4}/.test(name));
            if (code !== 0 || runs.length === 0) fail(new Error(`tsung exited with ${code}: ${output}`));
            else done(join(logDir, runs.sort().at(-1) as string));
        });
    });
}

export interface TsungFigures {
    /**
     * When (Unix seconds) the last of Tsung's 10-second statistics periods that saw a login ended:
     * every login had finished by then.
     */
    readonly loginsEndedBy: number;
    /**
     * When (Unix seconds) the first of Tsung's statistics periods in which a member finished (logged
     * out) began: until then, every member who had logged in was still online.
     */
    readonly logoutsBeganAfter: number;
    /** How many members Tsung started (its arrivals are random: the last may miss the phase). */
    readonly started: number;
    /** Milliseconds of each completed login (connect to roster), and of each message's trip. */
    readonly loginMs: number[];
    readonly messageLatencyMs: number[];
    readonly messagesSent: number;
    /** Tsung's error counters (connection refused, timeouts, …) by name. */
    readonly errors: Record<string, number>;
}

/**
 * The samples in Tsung's `tsung-fullstats.log` (Erlang terms): `{sample,tr_login,Ms}` or, when
 * Tsung batched them, `{sample,tr_login,[Ms,Ms,…]}`; likewise `xmpp_msg_latency`, `tr_message`.
 */
export function parseFullstats(
    text: string,
): Omit<TsungFigures, "errors" | "started" | "loginsEndedBy" | "logoutsBeganAfter"> {
    const samples = (name: string) =>
        [...text.matchAll(new RegExp(`\\{sample,${name},\\[?([0-9.e+\\-,\\s]+)\\]?\\}`, "g"))].flatMap((m) =>
            m[1].split(",").map(Number),
        );
    return {
        loginMs: samples("tr_login"),
        messageLatencyMs: samples("xmpp_msg_latency"),
        messagesSent: samples("tr_message").length,
    };
}

/** Tsung's counters from its `tsung.log`: the last `stats: NAME period total` line of each. */
export function parseCounters(text: string): Record<string, number> {
    const counters: Record<string, number> = {};
    for (const match of text.matchAll(/^stats: (\S+) -?\d+ (\d+)$/gm)) counters[match[1]] = Number(match[2]);
    return counters;
}

/**
 * Tsung's 10-second statistics periods in `tsung.log`: each starts at the dump before it (NaN for
 * the first) and ends at its own `# stats: dump at`, with the counts of its `stats: NAME count
 * total` lines.
 */
function statisticsPeriods(text: string): { start: number; end: number; counts: Map<string, number> }[] {
    // Lines before the first dump, if any, belong to a period of unknown bounds.
    const periods: { start: number; end: number; counts: Map<string, number> }[] = [
        { start: NaN, end: NaN, counts: new Map() },
    ];
    for (const line of text.split("\n")) {
        const dump = /^# stats: dump at (\d+)$/.exec(line);
        if (dump)
            periods.push({ start: periods.at(-1)?.end ?? NaN, end: Number(dump[1]), counts: new Map() });
        const stat = /^stats: (\S+) (-?\d+) /.exec(line);
        if (stat) periods[periods.length - 1].counts.set(stat[1], Number(stat[2]));
    }
    return periods;
}

/** The end of the last statistics period of `tsung.log` in which a login finished (`tr_login`). */
export function parseLoginsEndedBy(text: string): number {
    return statisticsPeriods(text).findLast(({ counts }) => (counts.get("tr_login") ?? 0) > 0)?.end ?? NaN;
}

/** The start of the first statistics period of `tsung.log` in which a member finished. */
export function parseLogoutsBeganAfter(text: string): number {
    const period = statisticsPeriods(text).find(({ counts }) => (counts.get("finish_users_count") ?? 0) > 0);
    return period ? period.start : Infinity;
}

function countersOf(counters: Record<string, number>): Pick<TsungFigures, "started" | "errors"> {
    const errors = Object.entries(counters).filter(([name]) => name.startsWith("error_"));
    return { started: counters.users_count ?? 0, errors: Object.fromEntries(errors) };
}

export function readTsungFigures(runDir: string): TsungFigures {
    const log = readFileSync(join(runDir, "tsung.log"), "utf8");
    return {
        ...parseFullstats(readFileSync(join(runDir, "tsung-fullstats.log"), "utf8")),
        ...countersOf(parseCounters(log)),
        loginsEndedBy: parseLoginsEndedBy(log),
        logoutsBeganAfter: parseLogoutsBeganAfter(log),
    };
}
