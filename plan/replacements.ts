/**
 * Which input changes make a provider replace a resource instead of updating it: provider
 * knowledge that the Pulumi mocks do not have, written down from each provider's schema.
 *
 * - hcloud (Pulumi's hcloud bridges hetznercloud/terraform-provider-hcloud; schema read at v1.68):
 *   Server: `image`, `location`, `user_data` and `ssh_keys` are ForceNew; `server_type` is an
 *   update (the provider powers the server off, calls change_type and starts it again, upgrading
 *   the disk unless `keep_disk`). Volume: `location` is ForceNew; `size` is a resize in place, and
 *   Hetzner cannot shrink a volume. PrimaryIp: `type` and `location` RequiresReplace.
 *   VolumeAttachment: `server_id` and `volume_id` ForceNew. Rdns: `server_id`, `primary_ip_id`,
 *   `floating_ip_id`, `load_balancer_id` and `ip_address` RequiresReplace. SshKey: `public_key`
 *   RequiresReplace. Firewall: none (rules are updated in place).
 * - cloudflare (Pulumi's cloudflare v6 bridges terraform-provider-cloudflare v5): DnsRecord:
 *   `zone_id` RequiresReplace; name, type, content, data, priority, ttl update in place.
 * - command (pulumi-command, remote.Command): `triggers`, "Trigger replacements on changes to this
 *   input"; see provisioning-steps.ts for what an update runs.
 *
 * Inputs a resource's `ignoreChanges` names are left out before this table is consulted (the
 * server's `userData`).
 */
export const REPLACED_WHEN_CHANGED: Readonly<Record<string, readonly string[]>> = {
    "hcloud:index/server:Server": ["image", "location", "userData", "sshKeys"],
    "hcloud:index/volume:Volume": ["location"],
    "hcloud:index/primaryIp:PrimaryIp": ["type", "location"],
    "hcloud:index/volumeAttachment:VolumeAttachment": ["serverId", "volumeId"],
    "hcloud:index/rdns:Rdns": ["serverId", "primaryIpId", "floatingIpId", "loadBalancerId", "ipAddress"],
    "hcloud:index/sshKey:SshKey": ["publicKey"],
    "cloudflare:index/dnsRecord:DnsRecord": ["zoneId"],
    "command:remote:Command": ["triggers"],
};
