/**
 * What calls cost the family's TURN server: starts Prosody and coturn from the rendered files
 * (coturn in a network namespace, as tests/calls.test.ts does), fetches TURN credentials over
 * XMPP, and relays traffic shaped like calls through coturn with its own client
 * (turnutils_uclient): one call leg, then many at once. Prints the figures; `--write` appends
 * them to BENCHMARKS.md. Needs root. Run: node --import tsx bench/calls.ts [--write]
 */
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { startLocalServer } from "../scripts/local-server";
import { familyModel } from "../tests/support/families";
import { externalServices, turnService } from "../tests/support/turn";
import { TurnLab } from "../tests/support/turn-lab";
import { login } from "../tests/support/xmpp";

const FAMILY = familyModel({ domain: "bench.test", members: [{ username: "anna", name: "Anna" }] });
/** A video call leg: 1000-byte packets every 5 ms, about 1.6 Mbit/s each way, for 10 s. */
const PACKET_BYTES = 1000;
const INTERVAL_MS = 5;
const PACKETS = 2000;

interface RelayFigures {
    readonly sent: number;
    readonly received: number;
    readonly lossPercent: number;
    readonly roundTripMs: number;
    readonly jitterMs: number;
}

function relay(
    server: string,
    port: number,
    peer: string,
    username: string,
    password: string,
    clients: number,
): RelayFigures {
    const result = spawnSync(
        "turnutils_uclient",
        [
            "-p",
            String(port),
            "-u",
            username,
            "-w",
            password,
            "-e",
            peer,
            "-m",
            String(clients),
            "-n",
            String(PACKETS),
            "-l",
            String(PACKET_BYTES),
            "-z",
            String(INTERVAL_MS),
            "-c",
            "-X",
            server,
        ],
        { encoding: "utf8", timeout: 120_000 },
    );
    const output = `${result.stdout}${result.stderr}`;
    const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? NaN);
    return {
        sent: number(/tot_send_msgs=(\d+), tot_recv_msgs=\d+\s*$/m),
        received: number(/tot_send_msgs=\d+, tot_recv_msgs=(\d+)\s*$/m),
        lossPercent: number(/Total lost packets \d+ \(([\d.]+)%\)/),
        roundTripMs: number(/Average round trip delay ([\d.]+) ms/),
        jitterMs: number(/Average jitter ([\d.]+) ms/),
    };
}

async function main(): Promise<void> {
    const lab = new TurnLab();
    lab.up();
    const peer = spawn("turnutils_peer", ["-L", lab.peerAddress, "-p", "3480"], { stdio: "ignore" });
    const stateDir = mkdtempSync(join(tmpdir(), "bench-calls-"));
    const server = await startLocalServer({
        model: FAMILY,
        stateDir,
        portOffset: 24500,
        turn: { address: lab.serverAddress, netns: lab.namespace },
    });
    try {
        setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
        const anna = await login(server, `anna@${FAMILY.domain}`);
        const discoveryMs: number[] = [];
        let services = await externalServices(anna, FAMILY.domain);
        for (let i = 0; i < 10; i++) {
            const t0 = performance.now();
            services = await externalServices(anna, FAMILY.domain);
            discoveryMs.push(performance.now() - t0);
        }
        await anna.stop();
        const turn = turnService(services, "udp");
        const credentials = [turn.username ?? "", turn.password ?? ""] as const;
        const one = relay(lab.serverAddress, server.listeners.turnPort, lab.peerAddress, ...credentials, 1);
        const many = relay(lab.serverAddress, server.listeners.turnPort, lab.peerAddress, ...credentials, 20);
        const coturnPid = spawnSync("pgrep", ["-f", `turnserver -c ${server.paths.turnConfig}`], {
            encoding: "utf8",
        })
            .stdout.trim()
            .split("\n")[0];
        const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${coturnPid}/status`, "utf8"))?.[1]);
        const median = [...discoveryMs].sort((a, b) => a - b)[Math.floor(discoveryMs.length / 2)];
        const row = (what: string, figures: RelayFigures) =>
            `| ${what} | ${figures.received} of ${figures.sent} packets back, ` +
            `${figures.lossPercent}% lost, ` +
            `round trip ${figures.roundTripMs} ms, jitter ${figures.jitterMs} ms |`;
        const lines = [
            `## Calls through coturn (bench/calls.ts), ${new Date().toISOString().slice(0, 10)}`,
            "",
            `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}; ` +
                "Debian's coturn in a network namespace (veth), caller and far end on the host.",
            `Traffic: ${PACKET_BYTES}-byte UDP packets every ${INTERVAL_MS} ms per call leg ` +
                `(about ${((PACKET_BYTES * 8) / INTERVAL_MS / 1000).toFixed(1)} Mbit/s each way), ` +
                `${PACKETS} packets, through the relay and echoed back.`,
            "",
            "| what | figure |",
            "| --- | --- |",
            `| TURN credentials from Prosody (XEP-0215 query, median of 10) | ${median.toFixed(1)} ms |`,
            row("1 relayed call leg", one),
            row("20 relayed call legs at once", many),
            `| coturn's resident memory afterwards | ${(rssKb / 1024).toFixed(1)} MiB |`,
            "",
        ];
        console.log(lines.join("\n"));
        if (process.argv.includes("--write"))
            appendFileSync(join(__dirname, "..", "BENCHMARKS.md"), `${lines.join("\n")}\n`);
    } finally {
        await server.stop();
        peer.kill();
        lab.down();
        rmSync(stateDir, { recursive: true, force: true });
    }
}

main();
