import { readFileSync, writeFileSync } from "node:fs";
import { run, runQuietly } from "./shell";

/**
 * A network namespace for the "server": a veth pair to the host and NAT, so that the container
 * reaches Debian's mirror while its services keep their real ports without binding host ports.
 * Only the namespace's own address is ever connected to from the host.
 */
export class NetworkLab {
    static readonly NAMESPACE = "fxboot";
    static readonly HOST_ADDRESS = "10.199.0.1";
    static readonly SERVER_ADDRESS = "10.199.0.2";
    /**
     * The far end of a relayed call, on the host: an address outside every range coturn refuses
     * to relay to (TEST-NET ranges included), which the container reaches through its default
     * route; see tests/support/turn-lab.ts for why 192.88.99.0/24.
     */
    static readonly PEER_ADDRESS = "192.88.99.7";
    private static readonly HOST_LINK = "fxboot-host";
    private static readonly SERVER_LINK = "fxboot-srv";
    private static readonly NFT_TABLE = "fxboot";
    private previousIpForward: string | undefined;

    get namespacePath(): string {
        return `/run/netns/${NetworkLab.NAMESPACE}`;
    }

    up(): void {
        this.down();
        const { NAMESPACE, HOST_LINK, SERVER_LINK, HOST_ADDRESS, SERVER_ADDRESS, NFT_TABLE } = NetworkLab;
        run("ip", ["netns", "add", NAMESPACE]);
        run("ip", ["link", "add", HOST_LINK, "type", "veth", "peer", "name", SERVER_LINK]);
        run("ip", ["link", "set", SERVER_LINK, "netns", NAMESPACE]);
        run("ip", ["addr", "add", `${HOST_ADDRESS}/24`, "dev", HOST_LINK]);
        run("ip", ["addr", "add", `${NetworkLab.PEER_ADDRESS}/32`, "dev", HOST_LINK]);
        run("ip", ["link", "set", HOST_LINK, "up"]);
        run("ip", ["-n", NAMESPACE, "addr", "add", `${SERVER_ADDRESS}/24`, "dev", SERVER_LINK]);
        run("ip", ["-n", NAMESPACE, "link", "set", SERVER_LINK, "up"]);
        run("ip", ["-n", NAMESPACE, "link", "set", "lo", "up"]);
        run("ip", ["-n", NAMESPACE, "route", "add", "default", "via", HOST_ADDRESS]);
        this.previousIpForward = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim();
        writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
        run(
            "nft",
            ["-f", "-"],
            [
                `table ip ${NFT_TABLE} {`,
                "  chain postrouting {",
                "    type nat hook postrouting priority srcnat; policy accept;",
                `    ip saddr ${SERVER_ADDRESS}/32 oifname != "${HOST_LINK}" masquerade`,
                "  }",
                "}",
            ].join("\n"),
        );
    }

    down(): void {
        runQuietly("nft", ["delete", "table", "ip", NetworkLab.NFT_TABLE]);
        runQuietly("ip", ["link", "delete", NetworkLab.HOST_LINK]);
        runQuietly("ip", ["netns", "delete", NetworkLab.NAMESPACE]);
        if (this.previousIpForward !== undefined) {
            writeFileSync("/proc/sys/net/ipv4/ip_forward", this.previousIpForward);
            this.previousIpForward = undefined;
        }
    }
}
