import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { FamilyModel } from "../model/family";
import { hetznerVolumeDevice, renderCloudInit } from "../render/cloud-init";
import { renderFirewallRules } from "../render/firewall";
import { PublicAddresses } from "../render/layout";

export interface FamilyServerArgs {
    readonly model: FamilyModel;
}

/** How the provisioning step reaches the server: as root, with the stack's own deploy key. */
export interface ServerConnection {
    readonly host: string;
    readonly user: string;
    readonly privateKey: string;
}

/**
 * The family's VPS on Hetzner: a Debian 13 server booted by the rendered cloud-init, its firewall,
 * and the things that outlive it (primary IPs, the data volume).
 *
 * What replaces the server, and why that is safe: a new image or location, or an explicit
 * `pulumi up --replace`. Accounts, rosters and history live on the volume, which is re-attached;
 * the primary IPs move to the new server, so DNS stays right; the provisioning step runs again
 * and brings the family's files up to date. A change of the family (members, groups, admins,
 * SSH keys) only changes the user data, which is read on first boot alone: those changes are
 * ignored on the server resource and applied over SSH instead, so they never replace it.
 */
export class FamilyServer extends pulumi.ComponentResource {
    public readonly ipv4: pulumi.Output<string>;
    public readonly ipv6: pulumi.Output<string>;
    /** The server's IPv4 address and IPv6 network, which coturn never relays to. */
    public readonly publicAddresses: pulumi.Output<PublicAddresses>;
    public readonly serverId: pulumi.Output<string>;
    public readonly connection: pulumi.Output<ServerConnection>;
    public readonly deployPublicKey: pulumi.Output<string>;

    constructor(name: string, args: FamilyServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("family-xmpp:index:FamilyServer", name, {}, opts);
        const { model } = args;
        const { location } = model.hetzner;
        // Hetzner label values: at most 63 characters of [a-z0-9-_.], starting and ending alphanumeric.
        const labels = {
            "managed-by": "family-xmpp",
            family: model.domain.slice(0, 63).replace(/[^a-z0-9]+$/, ""),
        };

        // The stack's own key: the same `pulumi up` works from a laptop or a pipeline, without
        // anyone's private key. It lives in the state, encrypted as a secret.
        const deployKey = new tls.PrivateKey(
            `${name}-deploy-key`,
            { algorithm: "ED25519" },
            { parent: this },
        );
        const hetznerDeployKey = new hcloud.SshKey(
            `${name}-deploy-key`,
            {
                name: `${model.hostname} deploy key`,
                publicKey: deployKey.publicKeyOpenssh,
                labels,
            },
            { parent: this },
        );

        // Primary IPs outlive the server, so DNS and reverse DNS survive a rebuild.
        const primaryIp = (family: "ipv4" | "ipv6") =>
            new hcloud.PrimaryIp(
                `${name}-${family}`,
                {
                    name: `${model.hostname} ${family}`,
                    type: family,
                    location,
                    assigneeType: "server",
                    autoDelete: false,
                    deleteProtection: true,
                    labels,
                },
                { parent: this, protect: true },
            );
        const ipv4 = primaryIp("ipv4");
        const ipv6 = primaryIp("ipv6");

        const firewall = new hcloud.Firewall(
            `${name}-firewall`,
            {
                name: `${model.hostname} firewall`,
                rules: renderFirewallRules(model).map((rule) => ({
                    direction: "in",
                    protocol: rule.protocol,
                    port: rule.port,
                    sourceIps: [...rule.sourceIps],
                    description: rule.description,
                })),
                labels,
            },
            { parent: this },
        );

        // The family's data: accounts, rosters, history. Never deleted by this stack.
        const volume = new hcloud.Volume(
            `${name}-data`,
            {
                name: `${model.hostname.replace(/\./g, "-")}-data`,
                size: model.hetzner.volumeSizeGb,
                location,
                format: "ext4",
                deleteProtection: true,
                labels,
            },
            { parent: this, protect: true },
        );

        // Hetzner routes a whole /64 to the server: all of it is the server's own.
        const publicAddresses = pulumi
            .all([ipv4.ipAddress, ipv6.ipNetwork, ipv6.ipAddress])
            .apply(([v4, v6Network, v6]) => ({ ipv4: v4, ipv6: v6Network || v6 }));
        const userData = pulumi
            .all([volume.id, publicAddresses, deployKey.publicKeyOpenssh])
            .apply(([volumeId, addresses, deployPublicKey]) =>
                renderCloudInit(model, hetznerVolumeDevice(volumeId), addresses, deployPublicKey),
            );

        const server = new hcloud.Server(
            `${name}-server`,
            {
                name: model.hostname,
                serverType: model.hetzner.serverType,
                image: model.hetzner.image,
                location,
                publicNets: [
                    {
                        ipv4Enabled: true,
                        ipv4: ipv4.id.apply(Number),
                        ipv6Enabled: true,
                        ipv6: ipv6.id.apply(Number),
                    },
                ],
                firewallIds: [firewall.id.apply(Number)],
                sshKeys: [hetznerDeployKey.id],
                userData,
                backups: model.hetzner.backups,
                deleteProtection: true,
                rebuildProtection: true,
                labels,
            },
            {
                parent: this,
                ignoreChanges: ["userData"],
                // The primary IPs belong to one server at a time: the old one must go first.
                deleteBeforeReplace: true,
            },
        );

        new hcloud.VolumeAttachment(
            `${name}-data-attachment`,
            {
                serverId: server.id.apply(Number),
                volumeId: volume.id.apply(Number),
                automount: false,
            },
            { parent: this },
        );

        new hcloud.Rdns(
            `${name}-ipv4-rdns`,
            {
                primaryIpId: ipv4.id.apply(Number),
                ipAddress: ipv4.ipAddress,
                dnsPtr: model.hostname,
            },
            { parent: this },
        );
        new hcloud.Rdns(
            `${name}-ipv6-rdns`,
            {
                primaryIpId: ipv6.id.apply(Number),
                ipAddress: server.ipv6Address,
                dnsPtr: model.hostname,
            },
            { parent: this },
        );

        this.ipv4 = ipv4.ipAddress;
        this.ipv6 = server.ipv6Address;
        this.publicAddresses = publicAddresses;
        this.serverId = server.id;
        this.deployPublicKey = deployKey.publicKeyOpenssh;
        this.connection = pulumi.secret(
            pulumi.all([ipv4.ipAddress, deployKey.privateKeyOpenssh]).apply(([host, privateKey]) => ({
                host,
                user: "root",
                privateKey,
            })),
        );
        this.registerOutputs({
            ipv4: this.ipv4,
            ipv6: this.ipv6,
            publicAddresses: this.publicAddresses,
            serverId: this.serverId,
            deployPublicKey: this.deployPublicKey,
        });
    }
}
