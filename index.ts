import * as pulumi from "@pulumi/pulumi";
import { FamilyBackup } from "./components/family-backup";
import { FamilyDns } from "./components/family-dns";
import { FamilyProvisioning } from "./components/family-provisioning";
import { FamilyServer } from "./components/family-server";
import { jidOf } from "./model/family";
import { readFamilyModel } from "./model/pulumi-config";
import { renderZoneFile } from "./render/dns";

const model = readFamilyModel();

const server = new FamilyServer("family", { model });
const dns = new FamilyDns("family", { model, ipv4: server.ipv4, ipv6: server.ipv6 });
const provisioning = new FamilyProvisioning(
    "family",
    {
        model,
        connection: server.connection,
        serverId: server.serverId,
        deployPublicKey: server.deployPublicKey,
        publicAddresses: server.publicAddresses,
        acmeToken: dns.acmeToken,
        certificateAfter: [dns],
    },
    { dependsOn: [server] },
);
// Nightly backups off the server, unless the family wrote `backup: false`.
const config = new pulumi.Config();
const backup = model.backup
    ? new FamilyBackup(
          "family",
          {
              model: { ...model, backup: model.backup },
              connection: server.connection,
              serverId: server.serverId,
              credentials: {
                  sshKey: config.getSecret("backupSshKey"),
                  s3AccessKeyId: config.getSecret("backupS3AccessKeyId"),
                  s3SecretAccessKey: config.getSecret("backupS3SecretAccessKey"),
              },
          },
          { dependsOn: [provisioning] },
      )
    : undefined;

export const host = model.hostname;
export const ipv4 = server.ipv4;
export const ipv6 = server.ipv6;
export const members = model.members.map((member) => ({
    jid: jidOf(model, member.username),
    name: member.name,
    admin: member.admin,
    groups: model.groups
        .filter((group) => group.members.includes(member.username))
        .map((group) => group.name),
}));
/** Each member's welcome link: `pulumi stack output --show-secrets welcomeLinks`. */
export const welcomeLinks = provisioning.welcomeLinks;
/** Each member's initial password, the fallback: `pulumi stack output --show-secrets passwords`. */
export const passwords = provisioning.passwords;
/** The backup repository's password, for paper: `pulumi stack output backupPassword --show-secrets`. */
export const backupPassword = backup?.password;
/** Where the family's backups go, or that nothing is backed up. */
export const backupRepository = model.backup?.repository ?? "none: backups are off, nothing is backed up";
export const dnsRecords = dns.records;
/** For a DNS provider other than Cloudflare: paste these lines into the zone. */
export const zoneFile = dns.records.apply(renderZoneFile);
/** The public half of the key the stack logs in with; its private half stays in the state as a secret. */
export const deployPublicKey = server.deployPublicKey;
