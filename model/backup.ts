import { isIPv4 } from "node:net";
import { BACKUP_CREDENTIAL_KEYS, BACKUP_KEEP_LIMIT, DEFAULTS } from "./known-values";
import { closest, dnsNameProblem, isRecord } from "./rules";
import { describe, quoted, shown } from "./text";

/**
 * The family's backups: a restic repository off the server, when to run, what to keep. Absent from
 * the model when the family wrote `backup: false`: then nothing is backed up.
 */
export interface BackupSettings {
    /** As restic takes it, e.g. `sftp:u123456@u123456.your-storagebox.de:family-xmpp`. */
    readonly repository: string;
    readonly target: SftpTarget | S3Target;
    /** systemd's OnCalendar, e.g. `*-*-* 03:30:00` (the server's clock runs on UTC). */
    readonly onCalendar: string;
    readonly keep: BackupRetention;
}

/** Where the SSH connection goes (the path is in the repository string, which restic reads). */
export interface SftpTarget {
    readonly kind: "sftp";
    readonly user: string;
    readonly host: string;
    readonly port: number;
}

export interface S3Target {
    readonly kind: "s3";
}

export interface BackupRetention {
    readonly daily: number;
    readonly weekly: number;
    readonly monthly: number;
}

type Report = (key: string, message: string) => void;

const BACKUP_FIELDS = ["repository", "schedule", "keep"];
const KEEP_FIELDS = ["daily", "weekly", "monthly"] as const;
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

const EXAMPLE_SFTP = "sftp:u123456@u123456.your-storagebox.de:family-xmpp";
const EXAMPLE_S3 = "s3:https://fsn1.your-objectstorage.com/johansson-backup/family-xmpp";

/**
 * The `backup` setting. Untrusted input that ends up in a shell script and a systemd unit on the
 * server: only the repository forms restic documents for SFTP and S3 over HTTPS, in a character
 * set with nothing a shell, systemd or ssh would read as more than a name.
 */
export function readBackup(
    value: unknown,
    raw: Readonly<Record<string, unknown>>,
    report: Report,
): BackupSettings | undefined {
    const given = BACKUP_CREDENTIAL_KEYS.filter((key) => raw[key] !== undefined);
    if (value === undefined) {
        report(
            "backup",
            "is not set. Name a repository off the server, e.g. " +
                `\`{repository: "${EXAMPLE_SFTP}"}\` (a Hetzner Storage Box), ` +
                "or write `backup: false` to run without backups: then nothing is backed up " +
                '(README, "Backups and restoring")',
        );
        return undefined;
    }
    if (value === false) {
        for (const key of given)
            report(key, "is set, but backups are off (`backup: false`); remove one of the two");
        return undefined;
    }
    if (!isRecord(value)) {
        report(
            "backup",
            `must be \`{repository: "${EXAMPLE_SFTP}"}\` (schedule and keep optional) or false, ` +
                `not ${describe(value)}`,
        );
        return undefined;
    }
    for (const field of Object.keys(value)) {
        if (!BACKUP_FIELDS.includes(field)) {
            const suggestion = closest(field, BACKUP_FIELDS);
            report(
                `backup.${shown(field)}`,
                `is not a field here${suggestion ? `; did you mean "${suggestion}"?` : ""} ` +
                    `(known: ${BACKUP_FIELDS.join(", ")})`,
            );
        }
    }
    const target = readRepository(value.repository, report);
    const onCalendar = readSchedule(value.schedule, report);
    const keep = readKeep(value.keep, report);
    if (target) readCredentials(target.kind, raw, report);
    if (!target || !onCalendar || !keep) return undefined;
    return { repository: value.repository as string, target, onCalendar, keep };
}

const USER = /^[a-z_][a-z0-9._-]{0,31}$/;
const PATH = /^[A-Za-z0-9._/-]{1,200}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function readRepository(value: unknown, report: Report): SftpTarget | S3Target | undefined {
    const key = "backup.repository";
    if (value === undefined) {
        report(
            key,
            `is required: where the backups go, e.g. "${EXAMPLE_SFTP}" (SFTP) or "${EXAMPLE_S3}" (S3)`,
        );
        return undefined;
    }
    if (typeof value !== "string") {
        report(key, `must be a text like "${EXAMPLE_SFTP}", not ${describe(value)}`);
        return undefined;
    }
    const problem = (why: string) => {
        report(key, `${quoted(value)}: ${why}`);
        return undefined;
    };
    const sftp =
        /^sftp:([^@/:]+)@([^/:]+):(.+)$/.exec(value) ??
        /^sftp:\/\/([^@/:]+)@([^/:]+)(?::(\d{1,5}))?\/(.+)$/.exec(value);
    if (value.startsWith("sftp:") && sftp) {
        const [user, host] = [sftp[1], sftp[2]];
        const port = sftp.length === 5 && sftp[3] !== undefined ? Number(sftp[3]) : 22;
        const path = sftp[sftp.length - 1];
        if (!USER.test(user))
            return problem(`the user ${quoted(user)} may only hold a-z, digits, ".", "_" and "-"`);
        const hostProblem = hostNameProblem(host);
        if (hostProblem) return problem(hostProblem);
        if (port < 1 || port > 65535) return problem(`port ${port} is not a port (1 to 65535)`);
        const pathProblem = repositoryPathProblem(path);
        if (pathProblem) return problem(pathProblem);
        return { kind: "sftp", user, host, port };
    }
    const s3 = /^s3:https:\/\/([^/:]+)(?::(\d{1,5}))?\/([^/]+)(?:\/(.+))?$/.exec(value);
    if (value.startsWith("s3:") && s3) {
        const [host, port, bucket, prefix] = [s3[1], s3[2], s3[3], s3[4]];
        const hostProblem = hostNameProblem(host);
        if (hostProblem) return problem(hostProblem);
        if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
            return problem(`port ${port} is not a port (1 to 65535)`);
        if (!BUCKET.test(bucket))
            return problem(
                `the bucket ${quoted(bucket)} must be 3 to 63 lowercase letters, digits, dots and hyphens`,
            );
        const prefixProblem = prefix === undefined ? undefined : repositoryPathProblem(prefix);
        if (prefixProblem) return problem(prefixProblem);
        return { kind: "s3" };
    }
    if (value.startsWith("s3:"))
        return problem(
            'an S3 repository is "s3:https://<endpoint>/<bucket>[/<folder>]" (HTTPS only), ' +
                `e.g. "${EXAMPLE_S3}"`,
        );
    return problem(
        'must be an SFTP location "sftp:<user>@<host>:<folder>" ' +
            '(or "sftp://<user>@<host>:<port>/<folder>") ' +
            `such as "${EXAMPLE_SFTP}", or an S3 bucket such as "${EXAMPLE_S3}"`,
    );
}

function hostNameProblem(host: string): string | undefined {
    if (isIPv4(host)) return undefined;
    const problem = dnsNameProblem(host);
    return problem ? `the host is not a host name: ${problem}` : undefined;
}

/** Folders: letters, digits and . _ / -, no ".." step, nothing that could be read as an option. */
function repositoryPathProblem(path: string): string | undefined {
    if (!PATH.test(path))
        return (
            `the folder ${quoted(path)} may only hold letters a-z, digits and . _ / - ` +
            "(no spaces, quotes or characters such as * ? $ that a shell reads), at most 200 of them"
        );
    if (path.split("/").some((step) => step === ".." || step.startsWith("-")))
        return `the folder ${quoted(path)} may not climb up ("..") or start a step with "-"`;
    return undefined;
}

/**
 * "03:30" (daily, the server's clock runs on UTC) or "Sun 03:30", "Mon,Thu 03:30", "Mon..Fri 03:30":
 * a small part of systemd's calendar syntax, turned into an OnCalendar value here.
 */
function readSchedule(value: unknown, report: Report): string | undefined {
    const schedule = value ?? DEFAULTS.backup.schedule;
    const days = `(?:${WEEKDAYS.join("|")})`;
    const pattern = new RegExp(
        `^(?:(${days}(?:\\.\\.${days}|(?:,${days})*)) )?([01][0-9]|2[0-3]):([0-5][0-9])$`,
    );
    const match = typeof schedule === "string" ? pattern.exec(schedule) : null;
    if (!match) {
        report(
            "backup.schedule",
            'must be a time of day in UTC, "HH:MM" (e.g. "03:30", every night), optionally after ' +
                'weekdays ("Sun 03:30", "Mon,Thu 03:30", "Mon..Fri 03:30"), ' +
                `not ${describe(schedule)}`,
        );
        return undefined;
    }
    const [, weekdays, hour, minute] = match;
    return `${weekdays ? `${weekdays} ` : ""}*-*-* ${hour}:${minute}:00`;
}

function readKeep(value: unknown, report: Report): BackupRetention | undefined {
    if (value === undefined) return { ...DEFAULTS.backup.keep };
    if (!isRecord(value)) {
        report("backup.keep", `must be like \`{daily: 7, weekly: 4, monthly: 12}\`, not ${describe(value)}`);
        return undefined;
    }
    let ok = true;
    for (const field of Object.keys(value)) {
        if (!(KEEP_FIELDS as readonly string[]).includes(field)) {
            const suggestion = closest(field, KEEP_FIELDS);
            report(
                `backup.keep.${shown(field)}`,
                `is not a field here${suggestion ? `; did you mean "${suggestion}"?` : ""} ` +
                    `(known: ${KEEP_FIELDS.join(", ")})`,
            );
            ok = false;
        }
    }
    const keep: Record<(typeof KEEP_FIELDS)[number], number> = { ...DEFAULTS.backup.keep };
    for (const field of KEEP_FIELDS) {
        const count = value[field];
        if (count === undefined) continue;
        const least = field === "daily" ? 1 : 0;
        if (
            typeof count !== "number" ||
            !Number.isInteger(count) ||
            count < least ||
            count > BACKUP_KEEP_LIMIT
        ) {
            report(
                `backup.keep.${field}`,
                `must be a whole number from ${least} to ${BACKUP_KEEP_LIMIT}, not ${describe(count)}` +
                    (field === "daily" ? " (at least the latest backup is kept)" : ""),
            );
            ok = false;
        } else {
            keep[field] = count;
        }
    }
    return ok ? keep : undefined;
}

/**
 * The repository's credentials are stack secrets (`pulumi config set --secret`): never shown in a
 * message, only whether they are there and of the right kind.
 */
function readCredentials(kind: "sftp" | "s3", raw: Readonly<Record<string, unknown>>, report: Report): void {
    const needed = kind === "sftp" ? ["backupSshKey"] : ["backupS3AccessKeyId", "backupS3SecretAccessKey"];
    for (const key of BACKUP_CREDENTIAL_KEYS) {
        const value = raw[key];
        if (!needed.includes(key)) {
            if (value !== undefined)
                report(key, `is for ${kind === "sftp" ? "an S3" : "an SFTP"} repository; remove it`);
            continue;
        }
        const command =
            key === "backupSshKey"
                ? `pulumi config set --secret ${key} < ~/.ssh/family-xmpp-backup`
                : `pulumi config set --secret ${key} <key>`;
        if (value === undefined) {
            report(
                key,
                `is required for ${kind === "sftp" ? "an SFTP" : "an S3"} repository: \`${command}\``,
            );
        } else if (isRecord(value)) {
            if (typeof value.secure !== "string" || Object.keys(value).length !== 1)
                report(key, `must be a secret: \`${command}\``);
        } else if (typeof value !== "string") {
            report(key, `must be a secret text: \`${command}\``);
        } else if (key === "backupSshKey" && !OPENSSH_PRIVATE_KEY.test(value.trim())) {
            report(
                key,
                "must be an OpenSSH private key without a passphrase " +
                    '("-----BEGIN OPENSSH PRIVATE KEY-----" …), as `ssh-keygen -t ed25519 -N ""` writes it',
            );
        } else if (key !== "backupSshKey" && !/^[A-Za-z0-9+/=_-]{1,128}$/.test(value)) {
            report(
                key,
                "must be the key as the provider shows it: at most 128 letters, digits and + / = _ -",
            );
        }
    }
}

const OPENSSH_PRIVATE_KEY =
    /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]{1,16000}\n-----END OPENSSH PRIVATE KEY-----$/;
