/**
 * The `backup` setting as untrusted input: its repository ends up in a shell script and ssh's
 * config, its schedule in a systemd timer, so only the forms restic documents for SFTP and S3 over
 * HTTPS pass, in a character set nothing on the server reads as more; the credentials are secrets
 * that no message ever shows.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DEFAULTS } from "../model/known-values";
import { ConfigProblem, parseFamilyConfig } from "../model/validate";
import { hasTool } from "./support/tools";

const STORAGE_BOX = "sftp:u123456@u123456.your-storagebox.de:family-xmpp";
const OBJECT_STORAGE = "s3:https://fsn1.your-objectstorage.com/johansson-backup/family-xmpp";
const SSH_KEY =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
    "-----END OPENSSH PRIVATE KEY-----\n";

const family = (overrides: Record<string, unknown>) => ({
    domain: "johansson.me",
    members: [{ username: "pappa", name: "Pappa", admin: true }],
    ...overrides,
});
const sftp = (backup: Record<string, unknown>) => family({ backup, backupSshKey: SSH_KEY });

function problemsOf(raw: Record<string, unknown>): ConfigProblem[] {
    const result = parseFamilyConfig(raw);
    return result.ok ? [] : [...result.problems];
}

function backupOf(raw: Record<string, unknown>) {
    const result = parseFamilyConfig(raw);
    if (!result.ok) assert.fail(result.problems.map((p) => `${p.key}: ${p.message}`).join("\n"));
    return result.model.backup;
}

function keysOf(raw: Record<string, unknown>): string[] {
    return problemsOf(raw).map((problem) => problem.key);
}

describe("the backup setting", () => {
    it("is required: a stack names a repository or says `backup: false`", () => {
        const [problem] = problemsOf(family({}));
        assert.equal(problem.key, "family-xmpp:backup");
        assert.match(problem.message, /is not set.*sftp:.*`backup: false`.*nothing is backed up/);
    });

    it("turned off with `backup: false`: no backup in the model", () => {
        assert.equal(backupOf(family({ backup: false })), undefined);
    });

    it("takes a Storage Box with the default schedule (03:30 UTC) and retention (7, 4, 12)", () => {
        assert.deepEqual(backupOf(sftp({ repository: STORAGE_BOX })), {
            repository: STORAGE_BOX,
            target: { kind: "sftp", user: "u123456", host: "u123456.your-storagebox.de", port: 22 },
            onCalendar: `*-*-* ${DEFAULTS.backup.schedule}:00`,
            keep: { daily: 7, weekly: 4, monthly: 12 },
        });
    });

    it("takes an SFTP URL with a port, and an S3 bucket over HTTPS with its access key", () => {
        const url = "sftp://u123456@u123456.your-storagebox.de:23/family-xmpp";
        assert.deepEqual(backupOf(sftp({ repository: url }))?.target, {
            kind: "sftp",
            user: "u123456",
            host: "u123456.your-storagebox.de",
            port: 23,
        });
        const s3 = family({
            backup: { repository: OBJECT_STORAGE },
            backupS3AccessKeyId: "AKIAEXAMPLE1234567",
            backupS3SecretAccessKey: { secure: "v1:AAAB" },
        });
        assert.deepEqual(backupOf(s3)?.target, { kind: "s3" });
    });

    it("takes weekdays and a time, and its own retention", () => {
        const backup = backupOf(
            sftp({ repository: STORAGE_BOX, schedule: "Mon..Fri 01:05", keep: { daily: 3, monthly: 0 } }),
        );
        assert.equal(backup?.onCalendar, "Mon..Fri *-*-* 01:05:00");
        assert.deepEqual(backup?.keep, { daily: 3, weekly: 4, monthly: 0 });
    });

    for (const repository of [
        "sftp:u1@box.example:/backups;rm -rf /",
        "sftp:u1@box.example:$(reboot)",
        "sftp:u1@box.example:`id`",
        "sftp:u1@box.example:family xmpp",
        "sftp:u1@box.example:family\nxmpp",
        "sftp:u1@box.example:../../etc",
        "sftp:u1@box.example:-oProxyCommand=reboot",
        "sftp:-oProxyCommand=x@box.example:family",
        "sftp:u1@-oProxyCommand=x:family",
        "sftp:u1@Box.Example:family",
        "sftp:u1@box.example",
        "sftp://u1@box.example:0/family",
        "sftp://u1@box.example:99999/family",
        "s3:http://fsn1.your-objectstorage.com/bucket",
        "s3:https://fsn1.your-objectstorage.com/Bucket_Name",
        "s3:https://fsn1.your-objectstorage.com",
        "rest:https://backup.example/family",
        "/srv/backups",
        "local:/srv/backups",
    ]) {
        it(`refuses the repository ${JSON.stringify(repository)}, naming the key`, () => {
            const problems = problemsOf(sftp({ repository }));
            assert.deepEqual(
                problems.map((p) => p.key),
                ["family-xmpp:backup.repository"],
            );
        });
    }

    for (const schedule of [
        "25:00",
        "3:30",
        "daily",
        "*-*-* 03:30:00",
        "03:30; reboot",
        "Sunday 03:30",
        "03:30\n",
    ]) {
        it(`refuses the schedule ${JSON.stringify(schedule)}`, () => {
            assert.deepEqual(keysOf(sftp({ repository: STORAGE_BOX, schedule })), [
                "family-xmpp:backup.schedule",
            ]);
        });
    }

    it("refuses a retention that keeps nothing, a wrong number and an unknown field", () => {
        const problems = problemsOf(
            sftp({ repository: STORAGE_BOX, keep: { daily: 0, weekly: 1.5, montly: 12 } }),
        );
        assert.deepEqual(
            problems.map((p) => p.key),
            [
                "family-xmpp:backup.keep.montly",
                "family-xmpp:backup.keep.daily",
                "family-xmpp:backup.keep.weekly",
            ],
        );
        assert.match(problems[0].message, /did you mean "monthly"/);
    });

    it("points out a misspelt field of backup", () => {
        const [problem] = problemsOf(sftp({ repository: STORAGE_BOX, schedul: "03:30" }));
        assert.equal(problem.key, "family-xmpp:backup.schedul");
        assert.match(problem.message, /did you mean "schedule"/);
    });

    it("needs the repository's credentials as secrets, and refuses those of the other kind", () => {
        assert.deepEqual(keysOf(family({ backup: { repository: STORAGE_BOX } })), [
            "family-xmpp:backupSshKey",
        ]);
        assert.deepEqual(keysOf(family({ backup: { repository: OBJECT_STORAGE } })), [
            "family-xmpp:backupS3AccessKeyId",
            "family-xmpp:backupS3SecretAccessKey",
        ]);
        assert.deepEqual(
            keysOf(
                family({
                    backup: { repository: STORAGE_BOX },
                    backupSshKey: SSH_KEY,
                    backupS3AccessKeyId: "x",
                }),
            ),
            ["family-xmpp:backupS3AccessKeyId"],
        );
        assert.deepEqual(keysOf(family({ backup: false, backupSshKey: SSH_KEY })), [
            "family-xmpp:backupSshKey",
        ]);
    });

    it("never shows a secret in a message, even a wrong one", () => {
        const secret = "hunter2-this-is-not-a-key";
        const problems = [
            ...problemsOf(family({ backup: { repository: STORAGE_BOX }, backupSshKey: secret })),
            ...problemsOf(
                family({
                    backup: { repository: OBJECT_STORAGE },
                    backupS3AccessKeyId: "id",
                    backupS3SecretAccessKey: `${secret} with spaces`,
                }),
            ),
        ];
        assert.equal(problems.length, 2);
        for (const problem of problems) assert.ok(!problem.message.includes("hunter2"), problem.message);
    });
});

describe("backup settings that pass, whatever is tried", () => {
    const safe = /^[A-Za-z0-9@:/._-]+$/;
    const piece = fc.string({
        unit: fc.constantFrom(..."aZ09@:/._-;$`'\" \n*?~!&|<>()\\%".split("")),
        maxLength: 12,
    });

    it("hold only letters, digits and @ : / . _ - in a repository restic is given", () => {
        fc.assert(
            fc.property(
                fc.constantFrom("sftp:", "sftp://", "s3:https://"),
                piece,
                piece,
                piece,
                (scheme, a, b, c) => {
                    const repository = `${scheme}${a}@${b}:${c}`;
                    const backup = parseFamilyConfig(sftp({ repository }));
                    if (backup.ok && backup.model.backup) assert.match(backup.model.backup.repository, safe);
                },
            ),
            { numRuns: 500 },
        );
    });

    it("are calendar expressions systemd itself reads", (t) => {
        if (!hasTool(t, "systemd-analyze", "systemd")) return;
        const days = fc.constantFrom("", "Mon ", "Sun ", "Mon..Fri ", "Mon,Thu ", "Sat,Sun ");
        const times = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }));
        fc.assert(
            fc.property(days, times, (day, [hour, minute]) => {
                const schedule = `${day}${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
                const onCalendar = backupOf(sftp({ repository: STORAGE_BOX, schedule }))?.onCalendar ?? "";
                const analyzed = spawnSync("systemd-analyze", ["calendar", onCalendar], { encoding: "utf8" });
                assert.equal(analyzed.status, 0, `${onCalendar}: ${analyzed.stderr}`);
                assert.match(analyzed.stdout, new RegExp(`Normalized form: .*${schedule.slice(-5)}:00`));
            }),
            { numRuns: 30 },
        );
    });
});
