/**
 * Backups on the local try-out: the rendered backup step, backup, alert and restore run against a
 * real SFTP server (OpenSSH's sshd on loopback, with a key of the test's own, SFTP only), with
 * restic from Debian; members, a room and a shared file come back on an emptied data directory.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { xml } from "@xmpp/client";
import { backupResult, checkBackup } from "../check/backup";
import { checkPortsOf } from "../check/run-check";
import { FamilyModel } from "../model/family";
import {
    backupSecretsOnStdin,
    BACKUP_COMMANDS,
    renderRemoveBackup,
    renderSyncBackup,
} from "../render/backup";
import { LocalServer, startLocalServer } from "../scripts/local-server";
import { familyModel } from "./support/families";
import { login, Session } from "./support/xmpp";
import { SftpServer, startSftpServer } from "./support/sftp";
import { S3Server, startS3Server } from "./support/s3";
import { missingTools, PROSODY } from "./support/tools";

const skipReason = missingTools([PROSODY, ["restic", "restic"], ["sshd", "openssh-server"]]);
const PORT_OFFSET = 12000 + (process.pid % 1000);
const SSH_PORT = 14000 + (process.pid % 1000);
const PASSWORD = randomBytes(24).toString("hex").slice(0, 32);
const DOMAIN = "family.test";
const jid = (username: string) => `${username}@${DOMAIN}`;

let workDir: string;
let stateDir: string;
let repositoryDir: string;
let sftp: SftpServer | undefined;
let server: LocalServer | undefined;
let model: FamilyModel & { backup: NonNullable<FamilyModel["backup"]> };
const sessions: Session[] = [];

function runOnServer(script: string, stdin = "", env: Record<string, string> = {}) {
    return spawnSync("sh", ["-c", script], {
        input: stdin,
        encoding: "utf8",
        env: { ...process.env, ...env },
    });
}

function command(name: string): string {
    return join(server!.host.paths.commandsDir, name);
}

function status(): Record<string, string> {
    const text = readFileSync(server!.host.paths.backupStatusFile, "utf8");
    return Object.fromEntries(
        text
            .split("\n")
            .filter(Boolean)
            .map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
}

function restic(...args: string[]) {
    const repositoryPassword = join(workDir, "password");
    writeFileSync(repositoryPassword, `${PASSWORD}\n`, { mode: 0o600 });
    return spawnSync("restic", ["-r", repositoryDir, "--password-file", repositoryPassword, ...args], {
        encoding: "utf8",
    });
}

async function member(username: string): Promise<Session> {
    const session = await login(server!, jid(username), undefined, `backup-${sessions.length}`);
    sessions.push(session);
    return session;
}

describe("backups on the local try-out, to a real SFTP server", { skip: skipReason }, () => {
    before(async () => {
        workDir = mkdtempSync(join(tmpdir(), "family-xmpp-backup-"));
        // Prosody (its own user when the tests run as root) must reach the state below it.
        chmodSync(workDir, 0o755);
        stateDir = join(workDir, "state");
        repositoryDir = join(workDir, "repository");
        sftp = startSftpServer(join(workDir, "sftp"), SSH_PORT);
        model = familyModel({
            domain: DOMAIN,
            members: [
                { username: "anna", name: "Anna", admin: true },
                { username: "bo", name: "Bo" },
            ],
            calls: false,
            backup: {
                repository: `sftp://${process.env.USER ?? "root"}@127.0.0.1:${SSH_PORT}/${repositoryDir}`,
            },
            backupSshKey: sftp.clientKey,
        }) as typeof model;
        server = await startLocalServer({ model, stateDir, portOffset: PORT_OFFSET });
        setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
        const step = runOnServer(
            renderSyncBackup(model, server.host),
            backupSecretsOnStdin(PASSWORD, { sshKey: sftp.clientKey }),
        );
        assert.equal(step.status, 0, step.stderr);
        assert.match(step.stdout, /made the repository/);
    });

    after(async () => {
        await Promise.allSettled(sessions.map((session) => session.stop()));
        await server?.stop();
        sftp?.stop();
        if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    it("keeps the repository's password and SSH key in owner-only files, never in a script", () => {
        const dir = server!.host.paths.backupDir;
        assert.equal(readFileSync(join(dir, "password"), "utf8"), `${PASSWORD}\n`);
        for (const file of ["password", "ssh-key"]) {
            const mode = spawnSync("stat", ["-c", "%a", join(dir, file)], { encoding: "utf8" }).stdout.trim();
            assert.equal(mode, "600", file);
        }
        assert.doesNotMatch(readFileSync(command(BACKUP_COMMANDS.backup), "utf8"), new RegExp(PASSWORD));
        assert.doesNotMatch(renderSyncBackup(model, server!.host), new RegExp(PASSWORD));
    });

    it("backs up history, rooms and a shared file; the check reports a fresh backup", async () => {
        const anna = await member("anna");
        await anna.xmpp.send(
            xml("message", { to: jid("bo"), type: "chat" }, xml("body", {}, "Fika i morgon?")),
        );
        await anna.joinRoom(`family@conference.${DOMAIN}`, "Anna");
        await anna.xmpp.send(
            xml(
                "message",
                { to: `family@conference.${DOMAIN}`, type: "groupchat" },
                xml("body", {}, "Hej rummet!"),
            ),
        );
        await anna.waitFor(
            (s) => s.is("message") && s.getChildText("body") === "Hej rummet!",
            "the room echo",
        );
        const shared = join(
            server!.paths.dataPath,
            `upload%2e${DOMAIN.replace(/\./g, "%2e")}`,
            "http_file_share",
        );
        mkdirSync(shared, { recursive: true });
        writeFileSync(join(shared, "photo.bin"), randomBytes(300_000));
        await anna.stop();

        const backup = runOnServer(command(BACKUP_COMMANDS.backup));
        assert.equal(backup.status, 0, backup.stderr);
        assert.match(backup.stdout, /Prosody paused for \d+ ms/);
        assert.equal(status().result, "ok");
        assert.match(status().snapshot, /^[0-9a-f]{8}$/);
        assert.equal(restic("check").status, 0, "restic check");
        const listed = runOnServer(`${command(BACKUP_COMMANDS.restore)} --list`);
        assert.equal(listed.status, 0, listed.stderr);
        assert.ok(listed.stdout.includes(status().snapshot), listed.stdout);
        assert.ok(!existsSync(server!.host.paths.backupCopyDir), "the copy is left behind");

        const result = await checkBackup(
            {
                model,
                addresses: { ipv4: "127.0.0.1", ipv6: "::1" },
                host: "127.0.0.1",
                credentials: server!.credentials,
                extraCaCertificates: [server!.caCertificate],
            },
            "127.0.0.1",
            checkPortsOf(server!.listeners),
        );
        assert.equal(result.status, "ok", result.detail);
        assert.match(result.detail, /^0 hours old/);
    });

    it("runs one backup at a time: a second one while the first runs does nothing", () => {
        const lock = `${server!.host.paths.backupCopyDir}.lock`;
        const first = spawn("flock", ["--close", lock, "sleep", "5"], { stdio: "ignore" });
        try {
            spawnSync("sleep", ["0.5"]);
            const second = runOnServer(command(BACKUP_COMMANDS.backup));
            assert.notEqual(second.status, 0);
            assert.match(second.stderr, /another backup is running; this one does nothing/);
            assert.equal(status().result, "ok", "the second run wrote over the first one's status");
        } finally {
            first.kill();
        }
    });

    it("fails loudly with a wrong password: non-zero exit, plain words, and the check sees it", async () => {
        const passwordFile = join(server!.host.paths.backupDir, "password");
        writeFileSync(passwordFile, "wrongwrongwrong\n");
        try {
            const backup = runOnServer(command(BACKUP_COMMANDS.backup));
            assert.notEqual(backup.status, 0);
            assert.match(backup.stderr, /the backup FAILED: .*wrong password/);
            assert.equal(status().result, "failed");
            assert.match(status().error, /wrong password/);
            const result = await checkBackup(
                {
                    model,
                    addresses: { ipv4: "127.0.0.1", ipv6: "::1" },
                    host: "127.0.0.1",
                    credentials: server!.credentials,
                    extraCaCertificates: [server!.caCertificate],
                },
                "127.0.0.1",
                checkPortsOf(server!.listeners),
            );
            assert.equal(result.status, "warn", result.detail);
            assert.match(result.detail, /the last attempt failed: .*wrong password/);
        } finally {
            writeFileSync(passwordFile, `${PASSWORD}\n`);
        }
    });

    it("survives a backup killed during its upload: restic check passes, the next one succeeds", async () => {
        const shared = join(
            server!.paths.dataPath,
            `upload%2e${DOMAIN.replace(/\./g, "%2e")}`,
            "http_file_share",
        );
        for (let i = 0; i < 8; i++) writeFileSync(join(shared, `big-${i}.bin`), randomBytes(16_000_000));
        const run = spawn("sh", [command(BACKUP_COMMANDS.backup)], { detached: true, stdio: "ignore" });
        let killed = false;
        for (let i = 0; i < 200 && !killed && run.exitCode === null; i++) {
            await new Promise((done) => setTimeout(done, 50));
            const uploading = spawnSync("pgrep", ["-g", String(run.pid), "-f", "backup --host"], {
                encoding: "utf8",
            }).stdout.trim();
            if (uploading) {
                await new Promise((done) => setTimeout(done, 300));
                spawnSync("kill", ["-KILL", ...uploading.split("\n")]);
                killed = true;
            }
        }
        if (run.exitCode === null) await new Promise((done) => run.once("exit", done));
        assert.ok(killed, "restic's upload was never seen");
        assert.equal(status().result, "failed");
        assert.equal(restic("check").status, 0, "restic check after the kill");
        const again = runOnServer(command(BACKUP_COMMANDS.backup));
        assert.equal(again.status, 0, again.stderr);
        assert.equal(status().result, "ok");
        assert.equal(restic("check").status, 0, "restic check after the next backup");
        for (let i = 0; i < 8; i++) rmSync(join(shared, `big-${i}.bin`));
    });

    it("writes to the admins when the last good backup is over two days old; the check fails", async () => {
        const anna = await member("anna");
        // Online, as an app is: a message to the bare address reaches it at once.
        await anna.xmpp.send(xml("presence"));
        const fresh = runOnServer(command(BACKUP_COMMANDS.alert));
        assert.equal(fresh.status, 0, fresh.stderr);
        assert.match(fresh.stdout, /backup ok: no alert/);

        const statusFile = server!.host.paths.backupStatusFile;
        const threeDaysAgo = Math.floor(Date.now() / 1000) - 3 * 86400;
        const saved = readFileSync(statusFile, "utf8");
        writeFileSync(
            statusFile,
            saved
                .replace(/^success=.*$/m, `success=${threeDaysAgo}`)
                .replace(/^error=.*$/m, "error=no route"),
        );
        try {
            const alert = runOnServer(command(BACKUP_COMMANDS.alert));
            assert.equal(alert.status, 0, alert.stderr);
            assert.match(alert.stdout, /backup overdue: told 1 admins/);
            const message = await anna.waitFor(
                (s) =>
                    s.is("message") &&
                    s.attrs.from === DOMAIN &&
                    /overdue/.test(s.getChildText("body") ?? ""),
                "the server's message about the backup",
            );
            assert.match(message.getChildText("body") ?? "", /3 days ago[\s\S]*failed: no route/);
            const result = await checkBackup(
                {
                    model,
                    addresses: { ipv4: "127.0.0.1", ipv6: "::1" },
                    host: "127.0.0.1",
                    credentials: server!.credentials,
                    extraCaCertificates: [server!.caCertificate],
                },
                "127.0.0.1",
                checkPortsOf(server!.listeners),
            );
            assert.equal(result.status, "fail", result.detail);
            assert.match(result.detail, /^3 days old .*more than two days/);
        } finally {
            writeFileSync(statusFile, saved);
        }
    });

    it("restores accounts, contacts, history, room history and a shared file onto empty data", async () => {
        const shared = join(
            server!.paths.dataPath,
            `upload%2e${DOMAIN.replace(/\./g, "%2e")}`,
            "http_file_share",
        );
        const photo = readFileSync(join(shared, "photo.bin"));
        await Promise.allSettled(sessions.splice(0).map((session) => session.stop()));
        await server!.stop();
        rmSync(server!.paths.dataPath, { recursive: true });
        mkdirSync(server!.paths.dataPath);

        const restore = runOnServer(command(BACKUP_COMMANDS.restore));
        assert.equal(restore.status, 0, restore.stderr);
        assert.match(restore.stdout, /restored latest/);
        assert.deepEqual(readFileSync(join(shared, "photo.bin")), photo);

        server = await startLocalServer({ model, stateDir, portOffset: PORT_OFFSET });
        const anna = await member("anna");
        assert.ok((await anna.archivedBodies()).includes("Fika i morgon?"), "anna's history");
        assert.ok(
            (await anna.archivedBodies(`family@conference.${DOMAIN}`)).includes("Hej rummet!"),
            "the room's history",
        );
        assert.deepEqual(
            (await anna.roster()).map((item) => item.jid),
            [jid("bo")],
        );
    });

    it("refuses a restore with a wrong password from paper, changing nothing", () => {
        const before = readFileSync(server!.host.paths.familyFile, "utf8");
        const restore = runOnServer(
            `${command(BACKUP_COMMANDS.restore)} --password-stdin`,
            "not-the-password\n",
        );
        assert.notEqual(restore.status, 0);
        assert.match(restore.stderr, /wrong password[\s\S]*nothing was changed/);
        assert.equal(readFileSync(server!.host.paths.familyFile, "utf8"), before);
    });

    it("restores for a new stack with the password from paper, then backs up with the new one", async () => {
        const passwordFile = join(server!.host.paths.backupDir, "password");
        const newStackPassword = randomBytes(16).toString("hex");
        writeFileSync(passwordFile, `${newStackPassword}\n`);
        await Promise.allSettled(sessions.splice(0).map((session) => session.stop()));
        await server!.stop();
        const restore = runOnServer(`${command(BACKUP_COMMANDS.restore)} --password-stdin`, `${PASSWORD}\n`);
        assert.equal(restore.status, 0, restore.stderr);
        assert.match(restore.stdout, /the stack's password now opens the repository too/);
        server = await startLocalServer({ model, stateDir, portOffset: PORT_OFFSET });
        const backup = runOnServer(command(BACKUP_COMMANDS.backup));
        assert.equal(backup.status, 0, backup.stderr);
        assert.equal(status().result, "ok");
    });

    it("takes commands, status and secrets off the server, but not while backups are on", async () => {
        const removeBackup = renderRemoveBackup(server!.host);
        const kept = runOnServer(removeBackup);
        assert.equal(kept.status, 0, kept.stderr);
        assert.match(kept.stdout, /backups are still on; nothing removed/);
        assert.ok(existsSync(command(BACKUP_COMMANDS.backup)));

        server!.applyFamilyChange({ ...model, backup: undefined });
        const removed = runOnServer(removeBackup);
        assert.equal(removed.status, 0, removed.stderr);
        for (const gone of [
            command(BACKUP_COMMANDS.backup),
            server!.host.paths.backupDir,
            server!.host.paths.backupStatusFile,
        ])
            assert.ok(!existsSync(gone), `${gone} is still there`);
    });
});

describe("the check's verdict on the backup's age", () => {
    const now = new Date("2026-11-26T12:00:00Z");
    const hoursAgo = (hours: number) => Math.floor(now.getTime() / 1000) - hours * 3600;

    it("passes a backup from last night and fails one older than two days", () => {
        assert.equal(backupResult({ state: "ok", success: hoursAgo(9) }, now).status, "ok");
        assert.equal(backupResult({ state: "ok", success: hoursAgo(47) }, now).status, "ok");
        assert.equal(backupResult({ state: "overdue", success: hoursAgo(49) }, now).status, "fail");
    });

    it("fails when no backup ever succeeded in two days, and when the server has none set up", () => {
        assert.equal(backupResult({ state: "overdue", error: "no route" }, now).status, "fail");
        assert.equal(backupResult({ state: "pending" }, now).status, "ok");
        assert.equal(backupResult({ state: "off" }, now).status, "fail");
    });
});

describe("backups to an S3-compatible server (s3rver over HTTPS)", { skip: skipReason }, () => {
    let dir: string;
    let s3: S3Server | undefined;
    let s3Server: LocalServer | undefined;
    let s3Model: typeof model;
    /** restic trusts s3rver's own certificate, as it trusts a provider's from the system's CAs. */
    const trust = () => ({ SSL_CERT_FILE: s3!.certificateFile });

    before(async () => {
        dir = mkdtempSync(join(tmpdir(), "family-xmpp-backup-s3-"));
        chmodSync(dir, 0o755);
        const port = 15000 + (process.pid % 1000);
        s3 = await startS3Server(join(dir, "s3"), port, "family");
        s3Model = familyModel({
            domain: DOMAIN,
            members: [
                { username: "anna", name: "Anna", admin: true },
                { username: "bo", name: "Bo" },
            ],
            calls: false,
            backup: { repository: `s3:https://127.0.0.1:${port}/family/family-xmpp` },
            backupS3AccessKeyId: s3.accessKeyId,
            backupS3SecretAccessKey: s3.secretAccessKey,
        }) as typeof model;
        s3Server = await startLocalServer({
            model: s3Model,
            stateDir: join(dir, "state"),
            portOffset: PORT_OFFSET + 2000,
        });
        setDefaultCACertificates([...getCACertificates("default"), s3Server.caCertificate]);
        const step = runOnServer(
            renderSyncBackup(s3Model, s3Server.host),
            backupSecretsOnStdin(PASSWORD, {
                s3AccessKeyId: s3.accessKeyId,
                s3SecretAccessKey: s3.secretAccessKey,
            }),
            trust(),
        );
        assert.equal(step.status, 0, step.stderr);
        assert.match(step.stdout, /made the repository/);
    });

    after(async () => {
        await s3Server?.stop();
        s3?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("keeps the access key in owner-only files, backs up, and restores the history", async () => {
        const keys = join(s3Server!.host.paths.backupDir, "s3-secret-access-key");
        assert.equal(spawnSync("stat", ["-c", "%a", keys], { encoding: "utf8" }).stdout.trim(), "600");
        const anna = await login(s3Server!, jid("anna"), undefined, "s3");
        await anna.xmpp.send(
            xml("message", { to: jid("bo"), type: "chat" }, xml("body", {}, "Till S3 och tillbaka")),
        );
        await anna.stop();
        const backup = runOnServer(
            join(s3Server!.host.paths.commandsDir, BACKUP_COMMANDS.backup),
            "",
            trust(),
        );
        assert.equal(backup.status, 0, backup.stderr);
        assert.match(readFileSync(s3Server!.host.paths.backupStatusFile, "utf8"), /^result=ok$/m);

        await s3Server!.stop();
        rmSync(s3Server!.paths.dataPath, { recursive: true });
        mkdirSync(s3Server!.paths.dataPath);
        const restore = runOnServer(
            join(s3Server!.host.paths.commandsDir, BACKUP_COMMANDS.restore),
            "",
            trust(),
        );
        assert.equal(restore.status, 0, restore.stderr);
        s3Server = await startLocalServer({
            model: s3Model,
            stateDir: join(dir, "state"),
            portOffset: PORT_OFFSET + 2000,
        });
        const back = await login(s3Server, jid("anna"), undefined, "s3-after");
        assert.ok((await back.archivedBodies()).includes("Till S3 och tillbaka"), "anna's history");
        await back.stop();
    });
});
