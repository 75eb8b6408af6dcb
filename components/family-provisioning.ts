import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { FamilyModel, jidOf } from "../model/family";
import { renderSyncFamilyFiles, renderWaitForCloudInit, secretOnStdin } from "../render/provisioning";
import { renderObtainCertificate, renderStoreDnsCredentials } from "../render/certificates";
import { renderDisableAccount, renderEnsureAccount, renderEraseAccount } from "../render/accounts";
import { renderSyncCallSecret } from "../render/calls";
import { renderServerFamilyFiles } from "../render/server-files";
import { renderWelcomeLink } from "../render/welcome";
import { PublicAddresses } from "../render/layout";
import { ServerConnection } from "./family-server";

export interface FamilyProvisioningArgs {
    readonly model: FamilyModel;
    readonly connection: pulumi.Input<ServerConnection>;
    /** A new server (a rebuild) runs the server-wide steps again. */
    readonly serverId: pulumi.Input<string>;
    readonly deployPublicKey: pulumi.Input<string>;
    /** The server's own addresses, which coturn never relays to. */
    readonly publicAddresses: pulumi.Input<PublicAddresses>;
    /** The Cloudflare token certbot uses for DNS-01 challenges (secret). */
    readonly acmeToken: pulumi.Input<string>;
    /** What must exist before Let's Encrypt is asked: the family's DNS records (CAA included). */
    readonly certificateAfter: pulumi.Input<pulumi.Resource>[];
}

/**
 * The steps run over SSH after the server exists: wait for its first boot, keep the family's files
 * and the group chats equal to the rendered ones, hand certbot its DNS token and get the
 * certificate, give coturn and Prosody the calls secret, create (or, when a member leaves the
 * config, disable) each member's account, and give each member a welcome link.
 * Secrets travel on stdin only: never in user data, logs, or clear in state.
 */
export class FamilyProvisioning extends pulumi.ComponentResource {
    /** `{ jid: initial password }`, secret: the fallback for a member who has no use for a link. */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** `{ jid: welcome link }`, secret: each member chooses their own password with theirs. */
    public readonly welcomeLinks: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: FamilyProvisioningArgs, opts?: pulumi.ComponentResourceOptions) {
        super("family-xmpp:index:FamilyProvisioning", name, {}, opts);
        const { model } = args;
        const connection = pulumi.output(args.connection).apply((c) => ({
            host: c.host,
            user: c.user,
            privateKey: c.privateKey,
            // The server may still be booting when it is first dialled.
            dialErrorLimit: 60,
        }));

        // Children do not inherit the component's dependsOn: the first step waits for the server
        // component as a whole (volume attached, reverse DNS set), and every other step after it.
        const firstBoot = new command.remote.Command(
            `${name}-first-boot`,
            {
                connection,
                create: renderWaitForCloudInit(),
                triggers: [args.serverId],
            },
            { parent: this, dependsOn: opts?.dependsOn },
        );

        const familyFiles = new command.remote.Command(
            `${name}-files`,
            {
                connection,
                create: pulumi
                    .output(args.deployPublicKey)
                    .apply((key) => renderSyncFamilyFiles(model, renderServerFamilyFiles(model, key))),
                triggers: [args.serverId],
            },
            { parent: this, dependsOn: [firstBoot] },
        );

        const dnsCredentials = new command.remote.Command(
            `${name}-dns-credentials`,
            {
                connection,
                create: renderStoreDnsCredentials(),
                stdin: pulumi.secret(pulumi.output(args.acmeToken).apply(secretOnStdin)),
                triggers: [args.serverId],
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: [firstBoot] },
        );

        new command.remote.Command(
            `${name}-certificate`,
            {
                connection,
                create: renderObtainCertificate(model),
                triggers: [args.serverId],
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: [familyFiles, dnsCredentials, ...args.certificateAfter] },
        );

        // Calls: coturn and Prosody share a secret only the stack knows. Re-run on a new server, and
        // when coturn's config changes (the relay ports), which the step's script carries.
        if (model.calls) {
            const callsSecret = new random.RandomPassword(
                `${name}-calls-secret`,
                { length: 32, special: false },
                { parent: this },
            );
            new command.remote.Command(
                `${name}-calls`,
                {
                    connection,
                    create: pulumi
                        .output(args.publicAddresses)
                        .apply((addresses) => renderSyncCallSecret(model, addresses)),
                    stdin: pulumi.secret(callsSecret.result.apply(secretOnStdin)),
                    triggers: [args.serverId],
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: [familyFiles] },
            );
        }

        // No trigger on the server here: accounts live on the data volume and survive a rebuild,
        // and a replaced account command would run its delete step on the new server.
        const passwords: Record<string, pulumi.Output<string>> = {};
        const welcomeLinks: Record<string, pulumi.Output<string>> = {};
        for (const member of model.members) {
            const jid = jidOf(model, member.username);
            const password = new random.RandomPassword(
                `${name}-password-${member.username}`,
                {
                    length: 24,
                    special: false,
                },
                { parent: this },
            );
            const account = new command.remote.Command(
                `${name}-account-${member.username}`,
                {
                    connection,
                    create: renderEnsureAccount(model, member.username),
                    // Leaving the config disables the account; its history stays (see removedMembers).
                    delete: renderDisableAccount(model, member.username),
                    stdin: pulumi.secret(password.result.apply(secretOnStdin)),
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: [familyFiles] },
            );
            passwords[jid] = password.result;
            // Made once per member; `pulumi up --replace` on this step gives them a fresh link and
            // ends their older ones, touching nobody else. Its stdout is the link: never logged.
            const welcome = new command.remote.Command(
                `${name}-welcome-${member.username}`,
                {
                    connection,
                    create: renderWelcomeLink(model, member.username),
                    logging: "stderr",
                },
                { parent: this, dependsOn: [account], additionalSecretOutputs: ["stdout"] },
            );
            welcomeLinks[jid] = welcome.stdout.apply((stdout) => stdout.trim());
        }

        // Erasing is never a side effect of an edit: only a former member listed with erase: true.
        for (const former of model.removedMembers.filter((removed) => removed.erase)) {
            new command.remote.Command(
                `${name}-erase-${former.username}`,
                {
                    connection,
                    create: renderEraseAccount(model, former.username),
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: [familyFiles] },
            );
        }

        this.passwords = pulumi.secret(pulumi.all(passwords));
        this.welcomeLinks = pulumi.secret(pulumi.all(welcomeLinks));
        this.registerOutputs({ passwords: this.passwords, welcomeLinks: this.welcomeLinks });
    }
}
