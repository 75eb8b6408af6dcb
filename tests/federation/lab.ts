import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
    chmodSync,
    copyFileSync,
    mkdirSync,
    mkdtempSync,
    openSync,
    closeSync,
    rmSync,
    writeFileSync,
} from "node:fs";
import { Resolver } from "node:dns/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    CertificateAuthority,
    ensureCertificateAuthority,
    LabPlacement,
    stopProcess,
} from "../../scripts/local-server";

/** The zone every server of the lab lives in (RFC 6761 keeps it out of the real DNS). */
export const LAB_ZONE = "test.";

/**
 * A small internet in network namespaces: one namespace per server, each with one address on a
 * shared bridge (which lives in a namespace of its own), an authoritative DNS server that every
 * namespace uses as its only resolver (`/etc/netns/<namespace>/resolv.conf`), and a certificate
 * authority that every namespace trusts as its only one (`/etc/netns/<namespace>/ssl`, seen as
 * `/etc/ssl` inside). The test process reaches the servers through one veth of its own on the
 * bridge; nothing is routed anywhere else. Everything the lab made, processes included, goes in
 * `down()`.
 */
export class FederationLab {
    readonly dir = mkdtempSync(join(tmpdir(), "family-xmpp-federation-"));
    readonly id = String(process.pid % 100000);
    readonly subnet = freeSubnet();
    readonly hostAddress = `${this.subnet}.1`;
    readonly dnsAddress = `${this.subnet}.2`;
    readonly certificateAuthority: CertificateAuthority;
    /** Resolves names through the lab's DNS server only, as the lab's servers do. */
    readonly resolver = new Resolver({ timeout: 2000, tries: 1 });
    private readonly wan = `fxfed${this.id}-wan`;
    private readonly namespaces: string[] = [];
    private readonly processes: ChildProcess[] = [];
    private nextHost = 10;

    constructor() {
        // Every server's own user (prosody, ejabberd, bind) finds its files below this directory.
        chmodSync(this.dir, 0o755);
        this.certificateAuthority = ensureCertificateAuthority(this.dir, "family-xmpp federation lab CA");
        this.resolver.setServers([this.dnsAddress]);
    }

    /** The bridge, and the test process's own veth on it. */
    up(): void {
        ip("netns", "add", this.wan);
        this.namespaces.push(this.wan);
        ip("-n", this.wan, "link", "add", "br0", "type", "bridge");
        ip("-n", this.wan, "link", "set", "br0", "up");
        const hostLink = `fxf${this.id}h`;
        ip("link", "add", hostLink, "type", "veth", "peer", "name", `fxf${this.id}hb`);
        ip("link", "set", `fxf${this.id}hb`, "netns", this.wan);
        ip("-n", this.wan, "link", "set", `fxf${this.id}hb`, "master", "br0", "up");
        ip("addr", "add", `${this.hostAddress}/24`, "dev", hostLink);
        ip("link", "set", hostLink, "up");
    }

    /**
     * A namespace for one server, with the next free address on the bridge; `address` for the DNS
     * server, whose address every other namespace already knows.
     */
    addNamespace(name: string, address = `${this.subnet}.${this.nextHost++}`): LabPlacement {
        const namespace = `fxfed${this.id}-${name}`;
        const inside = `fxf${this.id}i${this.namespaces.length}`;
        const outside = `fxf${this.id}o${this.namespaces.length}`;
        ip("netns", "add", namespace);
        this.namespaces.push(namespace);
        ip("-n", this.wan, "link", "add", outside, "type", "veth", "peer", "name", inside);
        ip("-n", this.wan, "link", "set", inside, "netns", namespace);
        ip("-n", this.wan, "link", "set", outside, "master", "br0", "up");
        ip("-n", namespace, "addr", "add", `${address}/24`, "dev", inside);
        ip("-n", namespace, "link", "set", inside, "up");
        ip("-n", namespace, "link", "set", "lo", "up");
        // Servers run as their own users and keep the VPS's ports, 443 included.
        ip("netns", "exec", namespace, "sysctl", "-q", "-w", "net.ipv4.ip_unprivileged_port_start=0");
        const etc = this.etcOf(namespace);
        mkdirSync(join(etc, "ssl", "certs"), { recursive: true });
        writeFileSync(join(etc, "resolv.conf"), `nameserver ${this.dnsAddress}\n`);
        copyFileSync("/etc/ssl/openssl.cnf", join(etc, "ssl", "openssl.cnf"));
        copyFileSync(
            this.certificateAuthority.certificateFile,
            join(etc, "ssl", "certs", "ca-certificates.crt"),
        );
        copyFileSync(this.certificateAuthority.certificateFile, join(etc, "ssl", "certs", "lab-ca.pem"));
        execFileSync("openssl", ["rehash", join(etc, "ssl", "certs")], { stdio: "ignore" });
        return {
            namespace,
            address,
            specialUseZone: LAB_ZONE,
            certificateAuthority: this.certificateAuthority,
        };
    }

    /** A process inside `namespace`, its output in `logFile`; stopped by `down()` at the latest. */
    spawnIn(namespace: string, command: readonly string[], logFile: string, cwd = this.dir): ChildProcess {
        const log = openSync(logFile, "a");
        const child = spawn("ip", ["netns", "exec", namespace, ...command], {
            cwd,
            stdio: ["ignore", log, log],
        });
        closeSync(log);
        this.processes.push(child);
        return child;
    }

    /** A command inside `namespace`, to its end. */
    runIn(namespace: string, command: readonly string[]): string {
        return execFileSync("ip", ["netns", "exec", namespace, ...command], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    }

    /**
     * Everything the lab made: its processes (and whatever they started inside the lab's
     * namespaces), the namespaces with their veths and bridge, their /etc/netns entries and the
     * lab's files. Safe to call more than once, and after a failed `up()`.
     */
    async down(): Promise<void> {
        await Promise.all(this.processes.map((child) => stopProcess(child, 5000)));
        for (const namespace of this.namespaces) {
            for (const pid of namespacePids(namespace)) spawnSync("kill", ["-KILL", pid]);
        }
        for (const namespace of this.namespaces.splice(0).reverse()) {
            spawnSync("ip", ["netns", "delete", namespace], { stdio: "ignore" });
            rmSync(this.etcOf(namespace), { recursive: true, force: true });
        }
        spawnSync("ip", ["link", "delete", `fxf${this.id}h`], { stdio: "ignore" });
        rmSync(this.dir, { recursive: true, force: true });
    }

    private etcOf(namespace: string): string {
        return join("/etc/netns", namespace);
    }
}

function ip(...args: string[]): void {
    execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function namespacePids(namespace: string): string[] {
    const pids = spawnSync("ip", ["netns", "pids", namespace], { encoding: "utf8" }).stdout ?? "";
    return pids.split("\n").filter(Boolean);
}

/** One of the lab's /24s in 10.214.0.0/16 that no route on this machine uses yet. */
function freeSubnet(): string {
    const routes = spawnSync("ip", ["-4", "route", "show"], { encoding: "utf8" }).stdout ?? "";
    for (let i = 0; i < 256; i++) {
        const subnet = `10.214.${(process.pid + i) % 256}`;
        if (!routes.includes(`${subnet}.0/24`)) return subnet;
    }
    throw new Error("no free /24 in 10.214.0.0/16 for the federation lab");
}
