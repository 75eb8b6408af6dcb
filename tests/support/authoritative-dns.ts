import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A real authoritative BIND on 127.0.0.1:port serving one zone, as the family's DNS provider would. */
export interface AuthoritativeDns {
    readonly port: number;
    stop(): void;
}

/** A whole zone file: the apex a provider adds (SOA, NS) around the records the stack exports. */
export function completeZoneFile(zone: string, zoneLines: string): string {
    return [
        `$ORIGIN ${zone}.`,
        "$TTL 3600",
        `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 300`,
        `@ IN NS ns.${zone}.`,
        "ns IN A 192.0.2.53",
        zoneLines,
    ].join("\n");
}

export async function startAuthoritativeDns(
    zone: string,
    zoneLines: string,
    port: number,
): Promise<AuthoritativeDns> {
    const dir = mkdtempSync(join(tmpdir(), "named-"));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "zone.db"), completeZoneFile(zone, zoneLines));
    writeFileSync(
        join(dir, "named.conf"),
        [
            `options { directory "${dir}"; pid-file "${dir}/named.pid"; ` +
                `listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; };`,
            // Several of these run at once: no instance may take BIND's machine-wide lock file or
            // its control channel (port 953), which another named may hold.
            "  recursion no; dnssec-validation no; lock-file none; };",
            "controls { };",
            `zone "${zone}" { type primary; file "${dir}/zone.db"; };`,
        ].join("\n"),
    );
    // named drops to the bind user and writes beside its zone
    spawnSync("chown", ["-R", "bind:bind", dir]);
    const log = openSync(join(dir, "named.log"), "w");
    const named: ChildProcess = spawn("named", ["-g", "-c", join(dir, "named.conf"), "-u", "bind"], {
        stdio: ["ignore", log, log],
    });
    closeSync(log);
    const answers = () =>
        spawnSync(
            "dig",
            ["@127.0.0.1", "-p", String(port), "+short", "+norecurse", "+tries=1", "+time=1", zone, "SOA"],
            { encoding: "utf8" },
        ).stdout.trim() !== "";
    // Ready when it answers three times in a row: named answers once while it starts, then briefly
    // sets up its listening sockets again, and a test's first query could fall into that gap.
    let inARow = 0;
    for (let i = 0; i < 150 && inARow < 3; i++) {
        inARow = answers() ? inARow + 1 : 0;
        await new Promise((r) => setTimeout(r, 100));
    }
    if (inARow < 3) {
        named.kill();
        const output = readFileSync(join(dir, "named.log"), "utf8").split("\n").slice(-10).join("\n");
        throw new Error(`named did not answer on 127.0.0.1:${port}:\n${output}`);
    }
    return {
        port,
        stop() {
            named.kill();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
