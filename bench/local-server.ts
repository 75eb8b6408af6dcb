/**
 * How long the local try-out takes to be usable, and what Prosody costs at rest: starts the family
 * of Pulumi.dev.yaml from the rendered files (as `npm start` does), logs every member in over
 * STARTTLS, and reads Prosody's resident memory. Prints the figures; `--write` appends them to
 * BENCHMARKS.md. Run: node --import tsx bench/local-server.ts [--write]
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { loadStackConfigOrExit } from "../scripts/load-stack-config";
import { startLocalServer } from "../scripts/local-server";
import { prosodyVersion } from "../tests/support/prosody-0.12";
import { login } from "../tests/support/xmpp";

const RUNS = 5;

async function once(): Promise<{ startMs: number; loginMs: number[]; rssKb: number }> {
    const model = loadStackConfigOrExit(join(__dirname, "..", "Pulumi.dev.yaml"));
    const stateDir = mkdtempSync(join(tmpdir(), "bench-local-"));
    const started = performance.now();
    const server = await startLocalServer({ model, stateDir, portOffset: 23000 });
    const startMs = performance.now() - started;
    setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
    const loginMs: number[] = [];
    try {
        for (const jid of Object.keys(server.credentials)) {
            const t0 = performance.now();
            const session = await login(server, jid, undefined, "bench");
            loginMs.push(performance.now() - t0);
            await session.stop();
        }
        const pid = Number(readFileSync(server.paths.pidfile, "utf8").trim());
        const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
        return { startMs, loginMs, rssKb };
    } finally {
        await server.stop();
        rmSync(stateDir, { recursive: true, force: true });
    }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
    const results = [];
    for (let i = 0; i < RUNS; i++) results.push(await once());
    const start = median(results.map((r) => r.startMs));
    const login = median(results.flatMap((r) => r.loginMs));
    const rss = median(results.map((r) => r.rssKb));
    const lines = [
        `## Local try-out (bench/local-server.ts), ${new Date().toISOString().slice(0, 10)}`,
        "",
        `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, ` +
            `Debian's Prosody ${prosodyVersion()}, ` +
            `load average (1 min) ${loadavg()[0].toFixed(1)} at the end.`,
        `Family: Pulumi.dev.yaml (5 members, 2 groups). ${RUNS} runs, medians.`,
        "",
        "| what | figure |",
        "| --- | --- |",
        `| render, start Prosody, create 5 accounts (fresh state) | ${start.toFixed(0)} ms |`,
        `| one member's login (TCP, STARTTLS, SCRAM, bind) | ${login.toFixed(0)} ms |`,
        `| Prosody's resident memory after the logins | ${(rss / 1024).toFixed(1)} MiB |`,
        "",
    ];
    console.log(lines.join("\n"));
    if (process.argv.includes("--write"))
        appendFileSync(join(__dirname, "..", "BENCHMARKS.md"), `${lines.join("\n")}\n`);
}

main();
