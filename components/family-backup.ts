import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { BackupSettings } from "../model/backup";
import { FamilyModel } from "../model/family";
import { backupSecretsOnStdin, renderRemoveBackup, renderSyncBackup } from "../render/backup";
import { ServerConnection } from "./family-server";

/** The repository's credentials, from stack secrets: an SSH key (SFTP) or an access key (S3). */
export interface BackupCredentials {
    readonly sshKey?: pulumi.Input<string>;
    readonly s3AccessKeyId?: pulumi.Input<string>;
    readonly s3SecretAccessKey?: pulumi.Input<string>;
}

export interface FamilyBackupArgs {
    readonly model: FamilyModel & { readonly backup: BackupSettings };
    readonly connection: pulumi.Input<ServerConnection>;
    /** A new server gets the backup step again. */
    readonly serverId: pulumi.Input<string>;
    readonly credentials: BackupCredentials;
}

/**
 * The family's nightly backup: the repository's password, generated here and kept only in the
 * stack's encrypted state, and the step that brings it, the repository's credentials, the backup,
 * restore and alert commands and their timers to the server over SSH (secrets on stdin only).
 * Removed (the family wrote `backup: false`), the step takes it all off the server again.
 */
export class FamilyBackup extends pulumi.ComponentResource {
    /** The repository's password: `pulumi stack output backupPassword --show-secrets`, for paper. */
    public readonly password: pulumi.Output<string>;

    constructor(name: string, args: FamilyBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("family-xmpp:index:FamilyBackup", name, {}, opts);
        const { model } = args;
        const password = new random.RandomPassword(
            `${name}-backup-password`,
            { length: 32, special: false },
            { parent: this },
        );
        const credentials = pulumi.all([
            args.credentials.sshKey,
            args.credentials.s3AccessKeyId,
            args.credentials.s3SecretAccessKey,
        ]);
        new command.remote.Command(
            `${name}-backup`,
            {
                connection: pulumi.output(args.connection).apply((c) => ({ ...c, dialErrorLimit: 60 })),
                create: renderSyncBackup(model),
                delete: renderRemoveBackup(),
                stdin: pulumi.secret(
                    pulumi
                        .all([password.result, credentials])
                        .apply(([secret, [sshKey, s3AccessKeyId, s3SecretAccessKey]]) =>
                            backupSecretsOnStdin(secret, { sshKey, s3AccessKeyId, s3SecretAccessKey }),
                        ),
                ),
                triggers: [args.serverId],
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: opts?.dependsOn },
        );
        this.password = pulumi.secret(password.result);
        this.registerOutputs({ password: this.password });
    }
}
