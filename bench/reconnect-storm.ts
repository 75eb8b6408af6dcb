/**
 * The reconnect storm after a server restart (what every unattended-upgrade reboot does): N
 * members of one family group online with @xmpp/client (SASL2, Bind 2, stream management as the
 * server offers it, reconnecting by themselves after 0.5–3 s, as apps do), the try-out's Prosody
 * stopped and started again from the rendered files, and, as soon as it is back, one more member
 * sends every other member a message. Measures how long until every member is online again and has
 * that message (live, or from offline storage if it was still reconnecting), and how many
 * reconnections resumed their stream (XEP-0198) rather than starting a new one. Prints the
 * figures; `--write` appends them to BENCHMARKS.md. As root:
 *
 *   node --import tsx bench/reconnect-storm.ts [--members 100] [--write]
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { parseArgs } from "node:util";
import { Client, client, xml } from "@xmpp/client";
import { jidOf } from "../model/family";
import { prosodyVersion } from "../tests/support/prosody-0.12";
import {
    appendSection,
    loadFamily,
    passwordOf,
    percentile,
    prepareProjectServer,
    PROJECT_C2S_PORT,
} from "./load";
import { startProsody } from "./load/stock-prosody";

interface Member {
    readonly username: string;
    readonly xmpp: Client;
    /** Milliseconds since the server was back when this member was online again, and had the message. */
    onlineAt?: number;
    messageAt?: number;
    resumed: boolean;
}

async function connectMember(username: string, domain: string, port: number, clock: () => number) {
    const xmpp = client({
        service: `xmpp://127.0.0.1:${port}`,
        domain,
        username,
        password: passwordOf(username),
        resource: "phone",
        timeout: 30_000,
    });
    const member: Member = { username, xmpp, resumed: false };
    xmpp.on("error", () => undefined);
    // Apps wait a moment before reconnecting, each a different one.
    xmpp.reconnect.delay = 500 + Math.random() * 2500;
    xmpp.on("online", () => {
        member.onlineAt ??= clock();
        xmpp.send(xml("presence")).catch(() => undefined);
    });
    xmpp.streamManagement.on("resumed", () => {
        member.resumed = true;
        member.onlineAt ??= clock();
    });
    xmpp.on("stanza", (stanza) => {
        if (stanza.is("message") && stanza.getChildText("body") === "while you were reconnecting")
            member.messageAt ??= clock();
    });
    await xmpp.start();
    return member;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            members: { type: "string", default: "100" },
            "state-root": { type: "string", default: "/var/tmp/family-xmpp-load" },
            write: { type: "boolean", default: false },
        },
    });
    const members = Number(values.members);
    // One more member than the storm: the one who writes to everyone when the server is back.
    const model = loadFamily(members + 1);
    const stateDir = join(values["state-root"] as string, `storm-${members + 1}`);
    const config = await prepareProjectServer(model, stateDir);
    setDefaultCACertificates([
        ...getCACertificates("default"),
        readFileSync(join(stateDir, "ca.crt"), "utf8"),
    ]);
    let prosody = await startProsody(config, PROJECT_C2S_PORT);
    let backAt = 0;
    const clock = () => performance.now() - backAt;
    const [sender, ...others] = model.members.map((member) => member.username);
    const storm: Member[] = [];
    try {
        for (let i = 0; i < others.length; i += 10) {
            storm.push(
                ...(await Promise.all(
                    others
                        .slice(i, i + 10)
                        .map((username) => connectMember(username, model.domain, PROJECT_C2S_PORT, clock)),
                )),
            );
        }
        const loadBefore = loadavg();
        await new Promise((done) => setTimeout(done, 2000));
        for (const member of storm) member.onlineAt = undefined;
        const stoppedAt = performance.now();
        await prosody.stop();
        prosody = await startProsody(config, PROJECT_C2S_PORT);
        backAt = performance.now();
        const downMs = backAt - stoppedAt;
        const writer = await connectMember(sender, model.domain, PROJECT_C2S_PORT, clock);
        const sentAt = clock();
        for (const username of others) {
            await writer.xmpp.send(
                xml(
                    "message",
                    { to: jidOf(model, username), type: "chat" },
                    xml("body", {}, "while you were reconnecting"),
                ),
            );
        }
        const deadline = performance.now() + 120_000;
        while (
            storm.some((m) => m.messageAt === undefined || m.onlineAt === undefined) &&
            performance.now() < deadline
        ) {
            await new Promise((done) => setTimeout(done, 100));
        }
        const back = storm.filter((m) => m.onlineAt !== undefined && m.messageAt !== undefined);
        const everyone = back.map((m) => Math.max(m.onlineAt as number, m.messageAt as number));
        const lines = [
            `## Reconnect storm: ${members} members after a restart (bench/reconnect-storm.ts), ` +
                new Date().toISOString().slice(0, 10),
            "",
            `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, shared with other work; Prosody ` +
                `${prosodyVersion()} from the try-out's rendered files. ${members} members of one group ` +
                "online with @xmpp/client 0.14 (SASL2, Bind 2, stream management), each reconnecting " +
                "by itself 0.5–3 s after losing the server; Prosody stopped and started again; as soon as " +
                "it is back, one more member sends each of them a message. Times from the moment the " +
                "server accepts connections again. Load average (1 min): " +
                `${loadBefore[0].toFixed(1)} before, ${loadavg()[0].toFixed(1)} after.`,
            "",
            "| what | figure |",
            "| --- | --- |",
            `| server down (stop to accepting connections again) | ${seconds(downMs)} |`,
            `| the message sent to everyone, after | ${seconds(sentAt)} |`,
            `| members back online with the message | ${back.length} of ${storm.length} |`,
            `| back online, p50 / p99 / last | ${stat(storm.map((m) => m.onlineAt))} |`,
            `| online and with the message, p50 / p99 / last | ${stat(everyone)} |`,
            "| reconnections that resumed their stream (XEP-0198) | " +
                `${storm.filter((m) => m.resumed).length} |`,
            "",
        ];
        console.log(lines.join("\n"));
        if (values.write) appendSection(lines);
        await Promise.all([writer, ...storm].map((m) => stopClient(m.xmpp)));
    } finally {
        await prosody.stop();
    }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function stat(values: (number | undefined)[]): string {
    const known = values.filter((v): v is number => v !== undefined);
    const [p50, p99] = [percentile(known, 50), percentile(known, 99)];
    return `${seconds(p50)} / ${seconds(p99)} / ${seconds(Math.max(...known))}`;
}

async function stopClient(xmpp: Client): Promise<void> {
    xmpp.reconnect.stop();
    await xmpp.stop().catch(() => undefined);
}

main().then(() => process.exit(0));
