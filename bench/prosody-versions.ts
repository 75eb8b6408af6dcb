/**
 * Prosody 13 against Prosody 0.12 on the local try-out, same config, same machine, same run:
 * the stack as it was before the move to Debian 13 (a work tree at that commit: its rendered
 * config and account scripts, which both versions run) starts the family of its Pulumi.dev.yaml
 * on Debian 12's Prosody 0.12.3 (unpacked from its package, tests/support/prosody-0.12.ts) and
 * on the installed Prosody 13, alternately, and logs every member in. Prints the figures;
 * `--write` appends them to BENCHMARKS.md. As root, on Debian 12 with Prosody 13 installed:
 *
 *   git worktree add --detach /var/tmp/family-xmpp-0.12 1589c5b && (cd /var/tmp/family-xmpp-0.12 && npm ci)
 *   node --import tsx bench/prosody-versions.ts --old-tree /var/tmp/family-xmpp-0.12 [--write]
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { parseArgs } from "node:util";
import { xml } from "@xmpp/client";
import { unpackProsody012 } from "../tests/support/prosody-0.12";
import { loginAt } from "../tests/support/xmpp";

/** What this bench uses of the old tree's scripts/local-server.ts. */
interface OldLocalServer {
    readonly listeners: { readonly c2sPort: number };
    readonly caCertificate: string;
    readonly credentials: Readonly<Record<string, string>>;
    readonly paths: { readonly pidfile: string };
    stop(): Promise<void>;
}
interface OldScripts {
    startLocalServer(options: {
        model: unknown;
        stateDir: string;
        portOffset: number;
    }): Promise<OldLocalServer>;
    loadStackConfigOrExit(file: string): unknown;
}
interface Run {
    readonly version: string;
    readonly startMs: number;
    readonly loginMs: number[];
    readonly rssKb: number;
}

const RUNS = 5;
/**
 * The old scripts create accounts as soon as Prosody listens for apps; Prosody 13's prosodyctl
 * reaches the server through its admin socket, which can come a moment later (seen under load):
 * such a start is tried again, and counted.
 */
const START_ATTEMPTS = 3;
const retried: Record<string, number> = { "0.12": 0, "13": 0 };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function once(scripts: OldScripts, model: unknown, path: string): Promise<Run> {
    process.env.PATH = path; // the old tree's scripts run `prosody` and `prosodyctl` from PATH
    const stateDir = mkdtempSync(join(tmpdir(), "bench-versions-"));
    const started = performance.now();
    const server = await scripts
        .startLocalServer({ model, stateDir, portOffset: 23100 })
        .catch((error: unknown) => {
            rmSync(stateDir, { recursive: true, force: true });
            throw error;
        });
    const startMs = performance.now() - started;
    setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
    const loginMs: number[] = [];
    let version = "";
    try {
        for (const [jid, password] of Object.entries(server.credentials)) {
            const t0 = performance.now();
            const session = await loginAt(
                { host: "127.0.0.1", port: server.listeners.c2sPort },
                jid,
                password,
            );
            loginMs.push(performance.now() - t0);
            // The running server's own word for its version (XEP-0092), not the PATH's.
            const answer = await session.xmpp.iqCaller.request(
                xml(
                    "iq",
                    { type: "get", to: jid.split("@")[1] },
                    xml("query", { xmlns: "jabber:iq:version" }),
                ),
            );
            version = answer.getChild("query")?.getChildText("version") ?? "?";
            await session.stop();
        }
        const pid = Number(readFileSync(server.paths.pidfile, "utf8").trim());
        const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
        return { version, startMs, loginMs, rssKb };
    } finally {
        await server.stop();
        rmSync(stateDir, { recursive: true, force: true });
    }
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            "old-tree": { type: "string" },
            "prosody-dir": { type: "string", default: "/var/tmp/family-xmpp-prosody-0.12" },
            write: { type: "boolean", default: false },
        },
    });
    if (!values["old-tree"])
        throw new Error("--old-tree <work tree at the commit before Debian 13> is required");
    const oldTree = resolve(values["old-tree"]);
    const scripts = {
        ...((await import(join(oldTree, "scripts", "local-server.ts"))) as OldScripts),
        ...((await import(join(oldTree, "scripts", "load-stack-config.ts"))) as OldScripts),
    };
    const model = scripts.loadStackConfigOrExit(join(oldTree, "Pulumi.dev.yaml"));
    const installed = process.env.PATH ?? "";
    const paths = {
        "0.12": `${unpackProsody012(values["prosody-dir"] ?? "")}:${installed}`,
        "13": installed,
    };
    const runs: Record<keyof typeof paths, Run[]> = { "0.12": [], "13": [] };
    // Alternately, so that whatever else the machine does weighs on both alike.
    for (let i = 0; i < RUNS; i++) {
        for (const key of ["0.12", "13"] as const) {
            for (let attempt = 1; ; attempt++) {
                try {
                    runs[key].push(await once(scripts, model, paths[key]));
                    break;
                } catch (error) {
                    if (attempt >= START_ATTEMPTS) throw error;
                    retried[key]++;
                }
            }
        }
    }
    process.env.PATH = installed;
    const column = (key: keyof typeof paths) => {
        const results = runs[key];
        return {
            version: [...new Set(results.map((r) => r.version))].join(", "),
            start: `${median(results.map((r) => r.startMs)).toFixed(0)} ms`,
            login: `${median(results.flatMap((r) => r.loginMs)).toFixed(0)} ms`,
            rss: `${(median(results.map((r) => r.rssKb)) / 1024).toFixed(1)} MiB`,
        };
    };
    const [old, current] = [column("0.12"), column("13")];
    const lines = [
        `## Prosody 13 against 0.12 on the local try-out (bench/prosody-versions.ts), ` +
            `${new Date().toISOString().slice(0, 10)}`,
        "",
        `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, Debian 12, ` +
            `load average (1 min) ${loadavg()[0].toFixed(1)} at the end. ` +
            "Prosody 0.12 unpacked from Debian 12's package; Prosody 13 from bookworm-backports.",
        "Config and account scripts: the stack before the move to Debian 13 (the same for both). " +
            `Family: its Pulumi.dev.yaml (5 members, 2 groups). ${RUNS} runs each, alternating, medians.`,
        "",
        "| what | Prosody 0.12 | Prosody 13 |",
        "| --- | --- | --- |",
        `| version the server reports (XEP-0092) | ${old.version} | ${current.version} |`,
        `| render, start Prosody, create 5 accounts (fresh state) | ${old.start} | ${current.start} |`,
        `| one member's login (TCP, STARTTLS, SASL, bind) | ${old.login} | ${current.login} |`,
        `| Prosody's resident memory after the logins | ${old.rss} | ${current.rss} |`,
        `| starts tried again (account creation before the admin socket) | ${retried["0.12"]} | ` +
            `${retried["13"]} |`,
        "",
    ];
    console.log(lines.join("\n"));
    if (values.write) appendFileSync(join(__dirname, "..", "BENCHMARKS.md"), `${lines.join("\n")}\n`);
}

main();
