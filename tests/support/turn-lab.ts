import { execFileSync, spawnSync } from "node:child_process";

/**
 * A network namespace for coturn. coturn refuses to relay to loopback, private, documentation
 * (TEST-NET) and other special addresses, so a relay test needs addresses that are none of these:
 * the lab takes them from 192.88.99.0/24, the former 6to4 relay anycast block, which RFC 7526
 * retired for good. No one on the internet is reached there, and coturn need not refuse it: a UDP
 * relay cannot speak 6to4's IPv6-in-IPv4 (protocol 41). The addresses exist only on the lab's veth
 * pair, for as long as a test runs. The "caller" (turnutils_uclient) and the "far end"
 * (turnutils_peer) stay on the host side.
 */
export class TurnLab {
    readonly namespace = `fxturn${process.pid % 100000}`;
    readonly serverAddress = "192.88.99.2";
    readonly peerAddress = "192.88.99.1";
    private readonly hostLink = `fxth${process.pid % 100000}`;
    private readonly serverLink = `fxts${process.pid % 100000}`;

    static possible(): string | undefined {
        return process.getuid?.() === 0 ? undefined : "a network namespace for coturn needs root";
    }

    up(): void {
        this.down();
        const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
        ip("netns", "add", this.namespace);
        ip("link", "add", this.hostLink, "type", "veth", "peer", "name", this.serverLink);
        ip("link", "set", this.serverLink, "netns", this.namespace);
        ip("addr", "add", `${this.peerAddress}/24`, "dev", this.hostLink);
        ip("link", "set", this.hostLink, "up");
        ip("-n", this.namespace, "addr", "add", `${this.serverAddress}/24`, "dev", this.serverLink);
        ip("-n", this.namespace, "link", "set", this.serverLink, "up");
        ip("-n", this.namespace, "link", "set", "lo", "up");
    }

    down(): void {
        spawnSync("ip", ["link", "delete", this.hostLink], { stdio: "ignore" });
        spawnSync("ip", ["netns", "delete", this.namespace], { stdio: "ignore" });
    }
}
