import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FederationLab } from "./lab";

/** A zone BIND serves: its name and the records in zone-file lines. */
export interface LabZone {
    readonly name: string;
    readonly records: string;
}

/**
 * BIND, authoritative for `zones` and nothing else (no recursion), in a namespace of its own at
 * the lab's DNS address, which the zone `test` names as `ns.test`. Resolves once it answers.
 */
export async function startLabDns(lab: FederationLab, zones: readonly LabZone[]): Promise<void> {
    const { namespace } = lab.addNamespace("dns", lab.dnsAddress);
    const dir = join(lab.dir, "dns");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const zoneFile = (zone: LabZone) => join(dir, `db.${zone.name}`);
    for (const zone of zones) {
        writeFileSync(
            zoneFile(zone),
            [
                `$ORIGIN ${zone.name}.`,
                "$TTL 300",
                `@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300`,
                "@ IN NS ns.test.",
                ...(zone.name === "test" ? [`ns.test. IN A ${lab.dnsAddress}`] : []),
                zone.records,
            ].join("\n"),
        );
    }
    writeFileSync(
        join(dir, "named.conf"),
        [
            `options { directory "${dir}"; pid-file "${dir}/named.pid"; ` +
                `listen-on port 53 { ${lab.dnsAddress}; }; listen-on-v6 { none; };`,
            "  recursion no; dnssec-validation no; };",
            ...zones.map((zone) => `zone "${zone.name}" { type primary; file "${zoneFile(zone)}"; };`),
        ].join("\n"),
    );
    spawnSync("chown", ["-R", "bind:bind", dir]);
    const named = lab.spawnIn(
        namespace,
        ["named", "-g", "-c", join(dir, "named.conf"), "-u", "bind"],
        join(dir, "named.log"),
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && named.exitCode === null) {
        try {
            await lab.resolver.resolveSoa("test");
            return;
        } catch {
            await new Promise((done) => setTimeout(done, 100));
        }
    }
    throw new Error(`BIND did not answer on ${lab.dnsAddress}; see ${join(dir, "named.log")}`);
}
