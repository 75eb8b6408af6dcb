/**
 * How many members one server carries: Tsung (Debian's package) drives N members of one family
 * group (every presence fans out to all N) against the server started from the project's rendered
 * files (the local try-out: `startLocalServer` renders them and makes the accounts, each run then
 * starts its Prosody from them as the VPS's service does), and against Debian's Prosody with its
 * packaged config (bench/load/stock-prosody.ts), alternately in the same run, so that the ratio
 * holds on a machine that does other work too. Each member: STARTTLS, SASL PLAIN, roster, initial
 * presence, then chat messages to members who are online at a fixed total rate, then logout.
 * Prints the figures; `--write` appends them to BENCHMARKS.md. As root, with tsung installed:
 *
 *   node --import tsx bench/load.ts --short            # N=100, 20 s of chat: under 3 minutes
 *   node --import tsx bench/load.ts --members 500 [--pairs 2] [--write]
 *   node --import tsx bench/load.ts --members 500 --servers project --lua-profile 100000
 *   node --import tsx bench/load.ts --members 500 --servers project --lua-timeline
 *
 * `--lua-profile N` samples the project's server every N Lua instructions (bench/load/lua-profile.lua)
 * and writes where its time went beside Tsung's logs; `--lua-timeline` writes when its thread
 * stalled and on what (bench/load/lua-timeline.lua); `--variant LUA` adds a setting to its config.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FamilyModel, jidOf } from "../model/family";
import { formatProblems, parseFamilyConfig } from "../model/validate";
import { startLocalServer } from "../scripts/local-server";
import { prosodyVersion } from "../tests/support/prosody-0.12";
import { prepareStockServer, RunningProsody, startProsody } from "./load/stock-prosody";
import { countStoredMessages, dataPathOf, dropStoredMessages, StoredCount } from "./load/stored-messages";
import { readTsungFigures, renderTsungScenario, runTsung, Scenario, TsungFigures } from "./load/tsung";

const DOMAIN = "load.test";
const USERNAME_PREFIX = "member";
const PASSWORD_PREFIX = "secret-of-member";
const PROJECT_PORT_OFFSET = 24000;
export const PROJECT_C2S_PORT = 5222 + PROJECT_PORT_OFFSET;
const STOCK_C2S_PORT = 29322;
/** Prosody is single-threaded: on its own core, Tsung on the other. */
const PROSODY_CPU = 0;
const TSUNG_CPU = 1;

type ServerKind = "project" | "stock";

interface RunFigures extends TsungFigures {
    readonly server: ServerKind;
    readonly loadBefore: number[];
    readonly loadAfter: number[];
    readonly rssIdleKb: number;
    readonly rssPeakKb: number;
    readonly cpuSeconds: number;
    readonly busyBySecond: BusySecond[];
    /** What the server stored for the messages' recipients during the run. */
    readonly stored: StoredCount;
}

/**
 * A family of `members` in one group, through the same validation as a stack config. Beyond the
 * few hundred members whose family files fit in Hetzner's 32 KiB of first-boot data (validation
 * refuses more, `firstBootDataLimited`), the validated family of the most members that fit gets the
 * rest added to its one group: the server itself has no such limit, and this measures the server.
 */
export function loadFamily(members: number): FamilyModel & { readonly firstBootDataLimited: boolean } {
    const usernames = Array.from({ length: members }, (_, i) => `${USERNAME_PREFIX}${i + 1}`);
    const member = (username: string, i: number) => ({ username, name: `Member ${i + 1}` });
    const validated = (count: number) =>
        parseFamilyConfig({
            domain: DOMAIN,
            // The nightly backup is measured on its own (bench/backup.ts); chat load does not run it.
            backup: false,
            members: usernames.slice(0, count).map(member),
            groups: [{ name: "Family", members: usernames.slice(0, count) }],
        });
    const result = validated(members);
    if (result.ok) return { ...result.model, firstBootDataLimited: false };
    const onlyTooBig = result.problems.every((problem) => problem.message.includes("first-boot data"));
    if (!onlyTooBig) throw new Error(formatProblems(result.problems));
    // The most members that fit: a binary search, each step a full validation.
    let [fits, refused] = [1, members];
    while (refused - fits > 1) {
        const middle = Math.floor((fits + refused) / 2);
        if (validated(middle).ok) fits = middle;
        else refused = middle;
    }
    const base = validated(fits);
    if (!base.ok) throw new Error(formatProblems(base.problems));
    return {
        ...base.model,
        members: usernames.map((username, i) => ({ ...member(username, i), admin: false })),
        groups: [{ ...base.model.groups[0], members: usernames }],
        firstBootDataLimited: true,
    };
}

/** Tsung's password scheme: the prefix plus the member's number. */
export const passwordOf = (username: string) => username.replace(USERNAME_PREFIX, PASSWORD_PREFIX);

/** The try-out rendered and provisioned in `stateDir`, with Tsung's passwords; returns the config's path. */
export async function prepareProjectServer(model: FamilyModel, stateDir: string): Promise<string> {
    mkdirSync(stateDir, { recursive: true });
    // The try-out keeps members' passwords here and gives new accounts these.
    const credentials = Object.fromEntries(
        model.members.map(({ username }) => [jidOf(model, username), passwordOf(username)]),
    );
    writeFileSync(join(stateDir, "credentials.json"), JSON.stringify(credentials), { mode: 0o600 });
    const server = await startLocalServer({ model, stateDir, portOffset: PROJECT_PORT_OFFSET });
    await server.stop();
    return server.paths.prosodyConfig;
}

/**
 * A tuning experiment: the rendered config with `lua` in its global section (before the first
 * VirtualHost), replacing the rendered setting of the same name if there is one, in a file beside
 * it; the rendered file itself stays as rendered.
 */
function writeVariant(config: string, lua: string): string {
    const name = /^\s*(\w+)\s*=/.exec(lua)?.[1];
    const rendered = readFileSync(config, "utf8");
    const text = name ? rendered.replace(new RegExp(`^${name} = .*$`, "m"), "") : rendered;
    const at = text.search(/^VirtualHost /m);
    const variant = config.replace(/\.cfg\.lua$/, ".variant.cfg.lua");
    writeFileSync(variant, `${text.slice(0, at)}-- bench variant\n${lua}\n\n${text.slice(at)}`);
    execFileSync("chown", ["prosody:prosody", variant]);
    return variant;
}

function procStatus(pid: number, field: string): number {
    const match = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return Number(match?.[1]);
}

/** User plus system CPU time of a process, in seconds. */
function cpuSeconds(pid: number): number {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs one line of Lua inside the running server, through its admin shell (the `>` prefix), for
 * the Lua probes below.
 */
function inServer(config: string, lua: string): string {
    return execFileSync("prosodyctl", ["--config", config, "shell", `>${lua}`], { encoding: "utf8" });
}

/** Lua loaded into the project's server for one run, which writes `report` beside Tsung's logs. */
interface LuaProbe {
    report: string;
    start(reportFile: string): string;
    stop(reportFile: string): string;
}

const inBench = (file: string) => JSON.stringify(join(__dirname, "load", file));

/** Where the time went, by Lua function, sampled every `every` instructions. */
const luaProfile = (every: number): LuaProbe => ({
    report: "lua-profile.txt",
    start: () => `return dofile(${inBench("lua-profile.lua")}).start(${every})`,
    stop: (reportFile) => `return package.loaded.family_bench_profile.stop(${JSON.stringify(reportFile)})`,
});

/**
 * When the thread stalled for more than 30 ms, and on what (a collection, a C call, a busy loop),
 * checked every 10,000 instructions: a few microseconds apart, far below the stalls it looks for.
 */
const LUA_TIMELINE: LuaProbe = {
    report: "lua-timeline.txt",
    start: (reportFile) =>
        `return dofile(${inBench("lua-timeline.lua")}).start(${JSON.stringify(reportFile)}, 10000, 0.03)`,
    stop: () => "return package.loaded.family_bench_timeline.stop()",
};

/** Prosody's share of its core in the second that ended at `at` (Unix seconds). */
interface BusySecond {
    readonly at: number;
    readonly busy: number;
}

/** Samples `pid`'s CPU time every second, into `samples`, until `stop`. */
function sampleBusy(pid: number): { samples: BusySecond[]; stop: () => void } {
    const samples: BusySecond[] = [];
    let last = { at: Date.now() / 1000, cpu: cpuSeconds(pid) };
    const timer = setInterval(() => {
        const now = { at: Date.now() / 1000, cpu: cpuSeconds(pid) };
        samples.push({ at: now.at, busy: (now.cpu - last.cpu) / (now.at - last.at) });
        last = now;
    }, 1000);
    return { samples, stop: () => clearInterval(timer) };
}

async function once(
    server: ServerKind,
    config: string,
    scenario: Scenario,
    logDir: string,
    pin: boolean,
    probe?: LuaProbe,
): Promise<RunFigures> {
    const dataPath = dataPathOf(readFileSync(config, "utf8"));
    dropStoredMessages(dataPath, scenario.domain);
    const prosody: RunningProsody = await startProsody(config, scenario.port);
    // Whole seconds: what the archive holds from earlier runs is older than this.
    const startedSeconds = Math.floor(Date.now() / 1000);
    let figures: Omit<RunFigures, "stored">;
    try {
        if (pin) execFileSync("taskset", ["-a", "-p", "-c", String(PROSODY_CPU), String(prosody.pid)]);
        await new Promise((done) => setTimeout(done, 2000));
        const rssIdleKb = procStatus(prosody.pid, "VmRSS");
        const cpuBefore = cpuSeconds(prosody.pid);
        const loadBefore = loadavg();
        mkdirSync(logDir, { recursive: true });
        const scenarioFile = join(logDir, "scenario.xml");
        writeFileSync(scenarioFile, renderTsungScenario(scenario));
        const report = probe && join(logDir, probe.report);
        if (probe && report) {
            execFileSync("chown", ["prosody:", logDir]);
            inServer(config, probe.start(report));
        }
        const busy = sampleBusy(prosody.pid);
        const runDir = await runTsung(scenarioFile, logDir, pin ? TSUNG_CPU : undefined).finally(busy.stop);
        if (probe && report) {
            inServer(config, probe.stop(report));
            console.log(`Written: ${report}`);
        }
        figures = {
            server,
            ...readTsungFigures(runDir),
            loadBefore,
            loadAfter: loadavg(),
            rssIdleKb,
            rssPeakKb: procStatus(prosody.pid, "VmHWM"),
            cpuSeconds: cpuSeconds(prosody.pid) - cpuBefore,
            busyBySecond: busy.samples,
        };
    } finally {
        await prosody.stop();
    }
    // Stopped, the server has written everything it stored.
    return { ...figures, stored: countStoredMessages(dataPath, scenario.domain, startedSeconds) };
}

/** The nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const ms = (value: number) =>
    Number.isNaN(value) ? "–" : value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(0)} ms`;
const share = (part: number, whole: number) => `${((100 * part) / Math.max(1, whole)).toFixed(1)} %`;
const loads = (values: number[]) => values.map((v) => v.toFixed(1)).join(" ");

const SERVER_NAMES: Record<ServerKind, string> = {
    project: "this project's rendered config",
    stock: "Debian's packaged config",
};

/** Sent and delivered as Tsung counted them; stored and lost as the server's archive has them. */
export function renderMessageCounts(
    sent: number,
    deliveredLive: number,
    stored: Pick<StoredCount, "archived" | "offline">,
): string {
    return (
        `${sent} / ${deliveredLive} (${share(deliveredLive, sent)}) / ` +
        `${stored.archived}${stored.offline > 0 ? ` (${stored.offline} offline)` : ""} / ` +
        `${sent - stored.archived}`
    );
}

/** Sent → stored for the messages sent from `from` until before `until` (Unix seconds). */
function sentBetweenMs(run: Pick<RunFigures, "stored">, from: number, until: number): number[] {
    return run.stored.toStoredMs.filter(({ sent }) => sent >= from && sent < until).map(({ ms }) => ms);
}

/**
 * Sent → stored for the messages sent while every member was online: once every login had finished
 * and before the first logout (see `loginsEndedBy`, `logoutsBeganAfter`).
 */
export function allOnlineMs(
    run: Pick<RunFigures, "loginsEndedBy" | "logoutsBeganAfter" | "stored">,
): number[] {
    return sentBetweenMs(run, run.loginsEndedBy, run.logoutsBeganAfter);
}

/**
 * When Prosody had caught up with the logins: the end of the first second after the last login's
 * statistics period in which it used less than 90 % of its core. Until then it still works through
 * the presences of the last logins, N for each, and a message waits behind them.
 */
export function caughtUpAt(run: Pick<RunFigures, "loginsEndedBy" | "busyBySecond">): number {
    return run.busyBySecond.find(({ at, busy }) => at > run.loginsEndedBy && busy < 0.9)?.at ?? NaN;
}

/** Sent → stored for the messages sent with everyone online, once Prosody had caught up. */
export function caughtUpMs(
    run: Pick<RunFigures, "loginsEndedBy" | "logoutsBeganAfter" | "busyBySecond" | "stored">,
): number[] {
    return sentBetweenMs(run, caughtUpAt(run), run.logoutsBeganAfter);
}

/**
 * Sent → stored p99 of the messages sent in each 10 seconds of the chat, from the first message
 * sent: whether late messages come in bursts (a pause of the server) or at its start only.
 */
export function p99ByTenSeconds(toStoredMs: StoredCount["toStoredMs"]): number[] {
    const first = Math.min(...toStoredMs.map(({ sent }) => sent));
    const windows: number[][] = [];
    for (const { sent, ms } of toStoredMs) (windows[Math.floor((sent - first) / 10)] ??= []).push(ms);
    return Array.from(windows, (window) => percentile(window ?? [], 99));
}

export function renderRunRow(run: RunFigures, members: number): string {
    const errors = Object.entries(run.errors)
        .map(([name, count]) => `${name.replace(/^error_/, "")} ${count}`)
        .join(", ");
    const allOnline = allOnlineMs(run);
    const caughtUp = caughtUpMs(run);
    return (
        `| ${SERVER_NAMES[run.server]} | ${run.loginMs.length} of ${run.started}` +
        `${run.started < members ? ` (of ${members})` : ""} | ` +
        `${ms(percentile(run.loginMs, 50))} / ${ms(percentile(run.loginMs, 99))} | ` +
        `${ms(percentile(run.messageLatencyMs, 50))} / ${ms(percentile(run.messageLatencyMs, 99))} | ` +
        `${allOnline.length}: ${ms(percentile(allOnline, 50))} / ${ms(percentile(allOnline, 99))} | ` +
        `${(caughtUpAt(run) - run.loginsEndedBy).toFixed(0)} s; ${caughtUp.length}: ` +
        `${ms(percentile(caughtUp, 50))} / ${ms(percentile(caughtUp, 99))} | ` +
        `${renderMessageCounts(run.messagesSent, run.messageLatencyMs.length, run.stored)} | ` +
        `${(run.rssIdleKb / 1024).toFixed(0)} / ${(run.rssPeakKb / 1024).toFixed(0)} MiB | ` +
        `${run.cpuSeconds.toFixed(1)} s | ${loads(run.loadBefore)} → ${loads(run.loadAfter)} | ` +
        `${errors || "none"} |`
    );
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            short: { type: "boolean", default: false },
            members: { type: "string" },
            "login-seconds": { type: "string" },
            "chat-seconds": { type: "string" },
            rate: { type: "string", default: "100" },
            pairs: { type: "string", default: "1" },
            servers: { type: "string", default: "project,stock" },
            "no-pin": { type: "boolean", default: false },
            note: { type: "string", default: "" },
            variant: { type: "string" },
            reuse: { type: "boolean", default: false },
            "lua-profile": { type: "string" },
            "lua-timeline": { type: "boolean", default: false },
            "state-root": { type: "string", default: "/var/tmp/family-xmpp-load" },
            write: { type: "boolean", default: false },
        },
    });
    if (values["lua-profile"] && values["lua-timeline"]) {
        console.error("--lua-profile and --lua-timeline both hook every coroutine: pick one.");
        process.exit(2);
    }
    const members = Number(values.members ?? 100);
    const scenarioOf = (port: number): Scenario => ({
        domain: DOMAIN,
        port,
        members,
        loginSeconds: Number(values["login-seconds"] ?? (values.short ? 10 : 30)),
        chatSeconds: Number(values["chat-seconds"] ?? (values.short ? 20 : 60)),
        messagesPerSecond: Number(values.rate),
        usernamePrefix: USERNAME_PREFIX,
        passwordPrefix: PASSWORD_PREFIX,
    });
    const servers = (values.servers ?? "").split(",") as ServerKind[];
    const pin = !values["no-pin"];
    const root = values["state-root"] as string;
    const model = loadFamily(members);
    const configs: Partial<Record<ServerKind, { config: string; port: number }>> = {};
    if (servers.includes("project")) {
        const stateDir = join(root, `project-${members}`);
        const rendered = join(stateDir, "prosody.cfg.lua");
        const config =
            values.reuse && existsSync(rendered) ? rendered : await prepareProjectServer(model, stateDir);
        configs.project = {
            config: values.variant ? writeVariant(config, values.variant) : config,
            port: PROJECT_C2S_PORT,
        };
    }
    if (servers.includes("stock")) {
        const config = await prepareStockServer(
            model,
            join(root, `stock-${members}`),
            STOCK_C2S_PORT,
            passwordOf,
        );
        configs.stock = { config, port: STOCK_C2S_PORT };
    }
    // Only the project's server: the stock one is the comparison, left as it is.
    const projectProbe = values["lua-profile"]
        ? luaProfile(Number(values["lua-profile"]))
        : values["lua-timeline"]
          ? LUA_TIMELINE
          : undefined;
    const runs: RunFigures[] = [];
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    for (let pair = 0; pair < Number(values.pairs); pair++) {
        for (const server of servers) {
            const { config, port } = configs[server] as { config: string; port: number };
            const logDir = join(root, "tsung", `${stamp}-${members}-${server}-${pair + 1}`);
            const probe = server === "project" ? projectProbe : undefined;
            const run = await once(server, config, scenarioOf(port), logDir, pin, probe);
            runs.push(run);
            console.log(renderRunRow(run, members));
        }
    }
    const scenario = scenarioOf(0);
    const lines = [
        `## Load: ${members} members in one group (bench/load.ts), ${new Date().toISOString().slice(0, 10)}`,
        "",
        `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, shared with other work (load averages ` +
            "below); Prosody " +
            `${prosodyVersion()}${servers.length > 1 ? " for both servers" : ""}` +
            (pin ? `, pinned to core ${PROSODY_CPU}, Tsung ${tsungVersion()} to core ${TSUNG_CPU}. ` : ". ") +
            `Scenario: ${members} members log in over ${scenario.loginSeconds} s (STARTTLS, SASL PLAIN, ` +
            `roster, presence), then send ${scenario.messagesPerSecond} messages a second together for ` +
            `${scenario.chatSeconds} s, each to a member online at the time, then log out. ` +
            (servers.length > 1 ? "Runs alternate between the servers. " : "") +
            "Messages: sent as Tsung counts them; delivered live " +
            "as Tsung counts them within its window (a lower bound: it counts one for several read " +
            "together); stored as the server's archive holds them for their recipients (mod_mam keeps " +
            "a message delivered live, late or to offline storage; those still offline at the end " +
            "in brackets); lost = sent − stored. Sent with everyone online: the messages Tsung sent " +
            "once the last of its 10-second statistics periods in which a login finished had ended " +
            "and before the first in which a member logged out began; once caught up: of those, the " +
            "ones sent once Prosody had caught up with the logins, at the end of the first second " +
            "after that period in which it used less than 90 % of its core (how many seconds after " +
            "it, first). Both: how long each message took from Tsung sending it to the server " +
            "storing the recipient's copy " +
            "as it delivers it (Tsung's stamp in the body against the archive's time)." +
            (servers.includes("stock") ? " Debian's config gets mod_mam for this count." : "") +
            (model.firstBootDataLimited
                ? " More members than a stack config can have today (Hetzner's 32 KiB of first-boot " +
                  "data): the validated family of the most that fit, with the rest added to its group."
                : "") +
            (values.variant
                ? ` The project's config with \`${values.variant}\` added (a bench variant).`
                : "") +
            (values.note ? ` ${values.note}` : ""),
        "",
        "| server | logins of members started | login p50 / p99 | message p50 / p99 | " +
            "sent with everyone online: sent → stored p50 / p99 | once caught up: after, sent: p50 / p99 | " +
            "messages sent / delivered live / stored / lost | RSS idle / peak | CPU | " +
            "load before → after | Tsung errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...runs.map((run) => renderRunRow(run, members)),
        "",
        "Sent → stored p99 for each 10 s of the chat, from its first message:",
        "",
        ...runs.map(
            (run, i) =>
                `- ${SERVER_NAMES[run.server]}, run ${i + 1}: ` +
                p99ByTenSeconds(run.stored.toStoredMs).map(ms).join(", "),
        ),
        "",
    ];
    console.log(lines.join("\n"));
    if (values.write) appendSection(lines);
}

/** Appends a section to BENCHMARKS.md, a blank line after whatever ends it now. */
export function appendSection(lines: string[]): void {
    const file = join(__dirname, "..", "BENCHMARKS.md");
    const separator = readFileSync(file, "utf8").endsWith("\n\n") ? "" : "\n";
    appendFileSync(file, `${separator}${lines.join("\n")}\n`);
}

function tsungVersion(): string {
    return execFileSync("dpkg-query", ["-W", "-f", "${Version}", "tsung"], { encoding: "utf8" }).trim();
}

if (require.main === module) main();
