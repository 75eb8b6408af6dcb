/**
 * What the nightly backup costs a family with a year of history: 10 members writing 20 messages a
 * day each for 365 days (73,000 messages, in the sender's and the recipient's archive as Prosody's
 * MAM keeps them, written by the running Prosody into its own store), and 200 photos of 1 to 3 MB
 * (random bytes: as incompressible as JPEG). The try-out's server backs up with the rendered
 * scripts to a real SFTP server on loopback (OpenSSH's sshd); measured: the first and the next
 * night's backup (a day of messages and two photos later), the repository's size, Prosody's data
 * copy (the pause: on the try-out Prosody keeps running, on the VPS it stops for it), and a
 * restore onto an empty data folder. Prints the figures; `--write` appends them to BENCHMARKS.md.
 * Needs root, restic and openssh-server. Run: node --import tsx bench/backup.ts [--write]
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { FamilyModel } from "../model/family";
import { backupSecretsOnStdin, BACKUP_COMMANDS, renderSyncBackup } from "../render/backup";
import { shellWord } from "../render/template";
import { LocalServer, startLocalServer } from "../scripts/local-server";
import { familyModel } from "../tests/support/families";
import { startSftpServer } from "../tests/support/sftp";

const MEMBERS = 10;
const MESSAGES_A_DAY = 20;
/** BENCH_DAYS makes a shorter history, to try the script out. */
const DAYS = Number(process.env.BENCH_DAYS ?? 365);
const PHOTOS = 200;
const DOMAIN = "bench.test";
const PORT_OFFSET = 16000;
const SSH_PORT = 15022;

type BackedUp = FamilyModel & { backup: NonNullable<FamilyModel["backup"]> };

function seconds(since: bigint): number {
    return Number(process.hrtime.bigint() - since) / 1e9;
}

function run(script: string, stdin = ""): string {
    const result = spawnSync("sh", ["-c", script], { input: stdin, encoding: "utf8", maxBuffer: 1 << 26 });
    if (result.status !== 0) throw new Error(`${script.slice(0, 80)}… failed: ${result.stderr}`);
    return result.stdout;
}

/**
 * Writes `days` days of messages into the archives as Prosody's internal store keeps them (the
 * item mod_storage_internal's `archive:append` writes, appended to the member's list file). Not
 * through `archive:append` itself: it refuses items past `storage_archive_item_limit` (10,000 per
 * member by default), which a year of this family's history exceeds (see BENCHMARKS.md).
 */
function writeHistory(server: LocalServer, firstDay: number, days: number): void {
    for (let sender = 0; sender < MEMBERS; sender++) {
        const lua = [
            `> local st = require "prosody.util.stanza";`,
            `local dm = require "prosody.core.storagemanager".olddm;`,
            `local uuid = require "prosody.util.uuid";`,
            `local datetime = require "prosody.util.datetime";`,
            `local host = ${JSON.stringify(DOMAIN)};`,
            `local function append(user, message, when, with)`,
            `local item = st.preserialize(st.clone(message)); item.when = when; item.with = with;`,
            `item.attr.stamp = datetime.datetime(when); item.key = uuid.v7();`,
            `assert(dm.list_append(user, host, "archive", item)) end;`,
            `local start = os.time() - ${DAYS} * 86400;`,
            `for day = ${firstDay}, ${firstDay + days - 1} do for n = 1, ${MESSAGES_A_DAY} do`,
            `local to = "member" .. ((${sender} + 1 + n % ${MEMBERS - 1}) % ${MEMBERS});`,
            `local from = "member${sender}";`,
            `local when = start + day * 86400 + n * 600;`,
            `local body = ("Hej! Ska vi ses på lördag? Jag tar med kaka. " .. day .. "/" .. n):rep(2);`,
            `local message = st.message({ type = "chat",`,
            `from = from .. "@" .. host .. "/phone", to = to .. "@" .. host }):text_tag("body", body);`,
            `append(from, message, when, to .. "@" .. host); append(to, message, when, from .. "@" .. host);`,
            `end end; return "ok"`,
        ].join(" ");
        const output = run(`${server.host.commands.prosodyctl} shell ${shellWord(lua)}`);
        if (!output.includes("ok")) throw new Error(`writing history: ${output}`);
    }
}

/** How many messages Prosody's own archive store reads back for `username`. */
function archivedItems(server: LocalServer, username: string): number {
    const lua =
        `> local archive = require "prosody.core.storagemanager".open(${JSON.stringify(DOMAIN)}, ` +
        `"archive", "archive"); local n = 0; ` +
        `for _ in assert(archive:find(${JSON.stringify(username)}, {})) do n = n + 1 end; ` +
        `return "items " .. n`;
    const output = run(`${server.host.commands.prosodyctl} shell ${shellWord(lua)}`);
    return Number(/items (\d+)/.exec(output)?.[1]);
}

function writePhotos(server: LocalServer, first: number, count: number): void {
    const dir = join(server.paths.dataPath, `upload%2e${DOMAIN.replace(/\./g, "%2e")}`, "http_file_share");
    mkdirSync(dir, { recursive: true });
    for (let i = first; i < first + count; i++) {
        const size = 1_000_000 + Math.floor(Math.random() * 2_000_000);
        writeFileSync(join(dir, `photo-${i}.bin`), randomBytes(size));
    }
    spawnSync("chown", ["-R", "prosody:prosody", dir]);
}

function backUp(server: LocalServer): { seconds: number; copyMs: number } {
    const started = process.hrtime.bigint();
    const output = run(join(server.host.paths.commandsDir, BACKUP_COMMANDS.backup));
    const copyMs = Number(/Prosody paused for (\d+) ms/.exec(output)?.[1]);
    return { seconds: seconds(started), copyMs };
}

function megabytes(path: string): number {
    return Number(run(`du -sb ${path} | cut -f1`).trim()) / 1e6;
}

async function main(): Promise<void> {
    const work = mkdtempSync(join(tmpdir(), "family-xmpp-bench-backup-"));
    chmodSync(work, 0o755);
    const sftp = startSftpServer(join(work, "sftp"), SSH_PORT);
    const repository = join(work, "repository");
    const model = familyModel({
        domain: DOMAIN,
        members: Array.from({ length: MEMBERS }, (_, n) => ({ username: `member${n}`, name: `Member ${n}` })),
        calls: false,
        volumeSizeGb: 20,
        backup: { repository: `sftp://root@127.0.0.1:${SSH_PORT}/${repository}` },
        backupSshKey: sftp.clientKey,
    }) as BackedUp;
    const stateDir = join(work, "state");
    let server = await startLocalServer({ model, stateDir, portOffset: PORT_OFFSET });
    try {
        run(
            renderSyncBackup(model, server.host),
            backupSecretsOnStdin(randomBytes(16).toString("hex"), { sshKey: sftp.clientKey }),
        );

        let started = process.hrtime.bigint();
        writeHistory(server, 0, DAYS);
        const historySeconds = seconds(started);
        writePhotos(server, 0, PHOTOS);
        const dataMb = megabytes(server.paths.dataPath);

        const first = backUp(server);
        const firstRepositoryMb = megabytes(repository);
        writeHistory(server, DAYS, 1);
        writePhotos(server, PHOTOS, 2);
        const next = backUp(server);
        const nextRepositoryMb = megabytes(repository);

        await server.stop();
        rmSync(server.paths.dataPath, { recursive: true });
        mkdirSync(server.paths.dataPath);
        started = process.hrtime.bigint();
        run(join(server.host.paths.commandsDir, BACKUP_COMMANDS.restore));
        const restoreSeconds = seconds(started);
        const restoredMb = megabytes(server.paths.dataPath);
        server = await startLocalServer({ model, stateDir, portOffset: PORT_OFFSET });
        const readable = archivedItems(server, "member0");
        const expected = 2 * MESSAGES_A_DAY * (DAYS + 1);
        if (readable !== expected) throw new Error(`member0's restored archive: ${readable} of ${expected}`);

        const rows: [string, string][] = [
            [
                `write ${DAYS} days of history ` +
                    `(${MEMBERS * MESSAGES_A_DAY * DAYS} messages, each archived twice)`,
                `${historySeconds.toFixed(1)} s`,
            ],
            ["Prosody's data (history, accounts, rooms, 200 photos)", `${dataMb.toFixed(1)} MB`],
            ["first backup (copy, upload over SFTP, forget, check)", `${first.seconds.toFixed(1)} s`],
            [
                "  of which the copy of Prosody's data (the pause on the VPS, plus stop and start)",
                `${first.copyMs} ms`,
            ],
            ["repository after the first backup", `${firstRepositoryMb.toFixed(1)} MB`],
            ["next night's backup (a day of messages, 2 photos more)", `${next.seconds.toFixed(1)} s`],
            ["  of which the copy of Prosody's data", `${next.copyMs} ms`],
            ["repository after the second backup", `${nextRepositoryMb.toFixed(1)} MB`],
            ["restore onto an empty data folder", `${restoreSeconds.toFixed(1)} s`],
            ["restored data", `${restoredMb.toFixed(1)} MB`],
            ["one member's archive after the restore, read through Prosody's store", `${readable} messages`],
        ];
        const restic = run("restic version").trim().split(" ").slice(0, 2).join(" ");
        const text = [
            `## Backups (bench/backup.ts), ${new Date().toISOString().slice(0, 10)}`,
            "",
            `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, ${restic} ` +
                "from Debian, OpenSSH's SFTP on loopback, " +
                "Debian's Prosody (the try-out, Prosody not stopped).",
            `Family: ${MEMBERS} members × ${MESSAGES_A_DAY} messages a day × ${DAYS} days, ` +
                `${PHOTOS} photos of ` +
                "1–3 MB of random bytes. One run.",
            "",
            "| what | figure |",
            "| --- | --- |",
            ...rows.map(([what, figure]) => `| ${what} | ${figure} |`),
            "",
        ].join("\n");
        process.stdout.write(`${text}\n`);
        if (process.argv.includes("--write"))
            appendFileSync(join(__dirname, "..", "BENCHMARKS.md"), `\n${text}`);
    } finally {
        await server.stop();
        sftp.stop();
        rmSync(work, { recursive: true, force: true });
    }
}

main().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
});
