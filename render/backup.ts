import { BackupSettings } from "../model/backup";
import { FamilyModel } from "../model/family";
import { DATA_MOUNT, PRODUCTION_HOST, ServerHost } from "./layout";
import { base64Lines, fillTemplate, luaString, renderScript, shellWord } from "./template";

/** The commands the backup step installs on the server (in `paths.commandsDir`). */
export const BACKUP_COMMANDS = {
    backup: "family-xmpp-backup",
    restore: "family-xmpp-restore",
    alert: "family-xmpp-backup-alert",
} as const;

/** The ssh_config host name the backup's SFTP connection goes through (see renderBackupSshConfig). */
const SSH_HOST_ALIAS = "family-xmpp-backup";

/** What the server's commands need of a family with backups on. */
type BackedUpFamily = FamilyModel & { readonly backup: BackupSettings };

/**
 * The restic fragment every backup script starts with: the repository, the password file, and how
 * restic reaches the repository (SFTP through the backup's own ssh_config, S3 with its keys).
 */
function renderResticSetup(model: BackedUpFamily, host: ServerHost): string {
    const dir = host.paths.backupDir;
    const command =
        model.backup.target.kind === "sftp"
            ? `restic -o "sftp.command=ssh -F $backup_dir/ssh_config ${SSH_HOST_ALIAS} -s sftp" "$@"`
            : [
                  'AWS_ACCESS_KEY_ID=$(cat "$backup_dir/s3-access-key-id")',
                  'AWS_SECRET_ACCESS_KEY=$(cat "$backup_dir/s3-secret-access-key")',
                  "export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY",
                  'restic "$@"',
              ].join("\n    ");
    return fillTemplate("restic.sh", {
        BACKUP_DIR: shellWord(dir),
        REPOSITORY: shellWord(model.backup.repository),
        RESTIC_COMMAND: command,
    }).trimEnd();
}

/** The nightly backup (config-templates/backup.sh). */
export function renderBackupScript(model: BackedUpFamily, host: ServerHost = PRODUCTION_HOST): string {
    const { paths } = host;
    const { keep } = model.backup;
    // Prosody's config as the stack rendered it, and its certificates: for reference, and for a
    // restore onto a server whose certificate has not been issued yet.
    const morePaths = [paths.letsEncryptState, paths.prosodyConfig, paths.groupsFile, paths.familyFile];
    return renderScript(
        "backup.sh",
        {
            STATUS_FILE: shellWord(paths.backupStatusFile),
            STATUS_OWNER: shellWord(host.owners.backupSecrets),
            COPY_DIR: shellWord(paths.backupCopyDir),
            DATA_PATH: shellWord(paths.dataPath),
            RESTIC: renderResticSetup(model, host),
            STOP_PROSODY: host.commands.stopProsody,
            START_PROSODY: host.commands.startProsody,
            HOSTNAME: shellWord(model.hostname),
            MORE_PATHS: [...morePaths, paths.certificatesDir].map(shellWord).join(" "),
            KEEP: `--keep-daily ${keep.daily} --keep-weekly ${keep.weekly} --keep-monthly ${keep.monthly}`,
        },
        host,
    );
}

/** The restore (config-templates/restore.sh), run by hand over SSH. */
export function renderRestoreScript(model: BackedUpFamily, host: ServerHost = PRODUCTION_HOST): string {
    const { paths } = host;
    return renderScript(
        "restore.sh",
        {
            STATUS_FILE: shellWord(paths.backupStatusFile),
            COPY_DIR: shellWord(paths.backupCopyDir),
            RESTORE_DIR: shellWord(paths.restoreDir),
            DATA_PATH: shellWord(paths.dataPath),
            DATA_OWNER: shellWord(host.owners.prosodyData),
            LETSENCRYPT: shellWord(paths.letsEncryptState),
            CERTIFICATES_DIR: shellWord(paths.certificatesDir),
            RESTIC: renderResticSetup(model, host),
            STOP_PROSODY: host.commands.stopProsody,
            START_PROSODY: host.commands.startProsody,
            HOSTNAME: shellWord(model.hostname),
        },
        host,
    );
}

/** Lua for Prosody's admin shell: the family module's look at the backup's age (see backup_alert). */
function backupAlertLua(model: FamilyModel): string {
    return `> return prosody.hosts[${luaString(model.domain)}].modules.family_xmpp.backup_alert()`;
}

export function renderBackupAlertScript(model: FamilyModel, host: ServerHost = PRODUCTION_HOST): string {
    return renderScript("backup-alert.sh", { ALERT_LUA: shellWord(backupAlertLua(model)) }, host);
}

/** How the backup reaches an SFTP repository: the key and known host of its own, never asking. */
function renderBackupSshConfig(model: BackedUpFamily, host: ServerHost): string | undefined {
    const { target } = model.backup;
    if (target.kind !== "sftp") return undefined;
    const dir = host.paths.backupDir;
    return [
        "# Rendered by family-xmpp: how the backup reaches its SFTP repository.",
        `Host ${SSH_HOST_ALIAS}`,
        `    HostName ${target.host}`,
        `    User ${target.user}`,
        `    Port ${target.port}`,
        `    IdentityFile ${dir}/ssh-key`,
        "    IdentitiesOnly yes",
        `    UserKnownHostsFile ${dir}/known_hosts`,
        // The storage's host key is learnt on the first connection (from the deploy) and held to.
        "    StrictHostKeyChecking accept-new",
        "    BatchMode yes",
        "    ServerAliveInterval 30",
        "    ServerAliveCountMax 4",
        "",
    ].join("\n");
}

interface BackupFile {
    readonly path: string;
    readonly content: string;
    readonly mode: string;
}

/** The files the backup step installs: the three commands, their systemd units, the SSH settings. */
function backupFiles(model: BackedUpFamily, host: ServerHost): BackupFile[] {
    const { paths } = host;
    const command = (name: string) => `${paths.commandsDir}/${name}`;
    const unit = (name: string, values: Record<string, string>): BackupFile => ({
        path: `${paths.systemdUnitsDir}/${name}`,
        content: fillTemplate(name, values),
        mode: "0644",
    });
    const sshConfig = renderBackupSshConfig(model, host);
    return [
        { path: command(BACKUP_COMMANDS.backup), content: renderBackupScript(model, host), mode: "0755" },
        { path: command(BACKUP_COMMANDS.restore), content: renderRestoreScript(model, host), mode: "0755" },
        { path: command(BACKUP_COMMANDS.alert), content: renderBackupAlertScript(model, host), mode: "0755" },
        unit("family-xmpp-backup.service", {
            DATA_MOUNT,
            BACKUP_COMMAND: command(BACKUP_COMMANDS.backup),
        }),
        unit("family-xmpp-backup.timer", { ON_CALENDAR: model.backup.onCalendar }),
        unit("family-xmpp-backup-alert.service", { ALERT_COMMAND: command(BACKUP_COMMANDS.alert) }),
        unit("family-xmpp-backup-alert.timer", {}),
        ...(sshConfig ? [{ path: `${paths.backupDir}/ssh_config`, content: sshConfig, mode: "0600" }] : []),
    ];
}

/**
 * The backup step's script: secrets from stdin into root-only files, the commands and timers in
 * place, the repository opened (made on first use).
 */
export function renderSyncBackup(model: BackedUpFamily, host: ServerHost = PRODUCTION_HOST): string {
    const writes = backupFiles(model, host).map(
        (file) =>
            `write_file ${shellWord(file.path)} ${file.mode} <<'FAMILY_XMPP_FILE_END'\n` +
            `${base64Lines(file.content)}FAMILY_XMPP_FILE_END`,
    );
    const storeCredentials =
        model.backup.target.kind === "sftp"
            ? fillTemplate("backup-credentials-sftp.sh", {})
            : fillTemplate("backup-credentials-s3.sh", {});
    return renderScript(
        "sync-backup.sh",
        {
            BACKUP_DIR: shellWord(host.paths.backupDir),
            SECRETS_OWNER: shellWord(host.owners.backupSecrets),
            STORE_CREDENTIALS: storeCredentials.trimEnd(),
            WRITE_FILES: writes.join("\n"),
            STATUS_FILE: shellWord(host.paths.backupStatusFile),
            INSTALL_RESTIC: host.commands.installRestic,
            START_TIMERS: host.commands.startBackupTimers,
            RESTIC: renderResticSetup(model, host),
            REPOSITORY_SHOWN: shellWord(model.backup.repository),
        },
        host,
    );
}

/** When backups are turned off: timers stopped, commands, units and secrets gone. */
export function renderRemoveBackup(host: ServerHost = PRODUCTION_HOST): string {
    const { paths } = host;
    const files = [
        ...Object.values(BACKUP_COMMANDS).map((name) => `${paths.commandsDir}/${name}`),
        ...["family-xmpp-backup", "family-xmpp-backup-alert"].flatMap((name) => [
            `${paths.systemdUnitsDir}/${name}.service`,
            `${paths.systemdUnitsDir}/${name}.timer`,
        ]),
        paths.backupStatusFile,
    ];
    return renderScript(
        "remove-backup.sh",
        {
            PROSODY_CONFIG: shellWord(paths.prosodyConfig),
            STOP_TIMERS: host.commands.stopBackupTimers,
            FILES: files.map(shellWord).join(" "),
            BACKUP_DIR: shellWord(paths.backupDir),
        },
        host,
    );
}

/**
 * The backup step's stdin: the repository password, then the credentials, one line each (the SSH
 * key in base64, as it spans lines).
 */
export function backupSecretsOnStdin(
    password: string,
    credentials: {
        readonly sshKey?: string;
        readonly s3AccessKeyId?: string;
        readonly s3SecretAccessKey?: string;
    },
): string {
    const lines = [password];
    if (credentials.sshKey !== undefined)
        lines.push(Buffer.from(`${credentials.sshKey.trim()}\n`, "utf8").toString("base64"));
    if (credentials.s3AccessKeyId !== undefined && credentials.s3SecretAccessKey !== undefined)
        lines.push(credentials.s3AccessKeyId, credentials.s3SecretAccessKey);
    return `${lines.join("\n")}\n`;
}
