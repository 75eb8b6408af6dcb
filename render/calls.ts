import { isIPv4, isIPv6 } from "node:net";
import { FamilyModel } from "../model/family";
import { PRODUCTION_HOST, PublicAddresses, ServerHost } from "./layout";
import { base64Lines, fillTemplate, renderScript, shellWord } from "./template";

/**
 * Peers coturn never relays to, so that a relay for calls is never a way into what lies behind
 * the server, into IPv4 through IPv6 tunnels, or to addresses no one should be reached at.
 * Multicast is refused by `no-multicast-peers`; the server's own addresses are added per server.
 */
export const DENIED_PEER_RANGES: readonly { readonly range: string; readonly why: string }[] = [
    { range: "0.0.0.0-0.255.255.255", why: '"this network"' },
    { range: "10.0.0.0-10.255.255.255", why: "private networks (Hetzner's included)" },
    { range: "100.64.0.0-100.127.255.255", why: "carrier-grade NAT" },
    { range: "127.0.0.0-127.255.255.255", why: "the server's own loopback services" },
    { range: "169.254.0.0-169.254.255.255", why: "link-local, the cloud's metadata service" },
    { range: "172.16.0.0-172.31.255.255", why: "private networks" },
    { range: "192.0.0.0-192.0.0.255", why: "IETF protocol assignments" },
    { range: "192.0.2.0-192.0.2.255", why: "documentation (TEST-NET-1), never a real peer" },
    { range: "192.168.0.0-192.168.255.255", why: "private networks" },
    { range: "198.18.0.0-198.19.255.255", why: "benchmarking networks" },
    { range: "198.51.100.0-198.51.100.255", why: "documentation (TEST-NET-2), never a real peer" },
    { range: "203.0.113.0-203.0.113.255", why: "documentation (TEST-NET-3), never a real peer" },
    { range: "240.0.0.0-255.255.255.255", why: "reserved and broadcast" },
    { range: "::1", why: "the server's own loopback services" },
    {
        range: "::ffff:0.0.0.0-::ffff:255.255.255.255",
        why: "IPv4-mapped addresses, a way around the IPv4 rules",
    },
    { range: "64:ff9b::-64:ff9b::ffff:ffff", why: "NAT64, another way to IPv4" },
    { range: "64:ff9b:1::-64:ff9b:1:ffff:ffff:ffff:ffff:ffff", why: "local-use NAT64, another way to IPv4" },
    { range: "2001::-2001:0:ffff:ffff:ffff:ffff:ffff:ffff", why: "Teredo, IPv6 tunnelled into IPv4" },
    { range: "2001:2::-2001:2:0:ffff:ffff:ffff:ffff:ffff", why: "benchmarking networks" },
    {
        range: "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        why: "documentation, never a real peer",
    },
    { range: "2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", why: "6to4, IPv6 tunnelled into IPv4" },
    { range: "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", why: "unique local (private) networks" },
    { range: "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", why: "link-local" },
];

/** An IPv4 address, an IPv6 address, or an IPv6 network (CIDR) as one of coturn's peer ranges. */
export function peerRange(addressOrNetwork: string): string {
    const [address, prefixText] = addressOrNetwork.split("/");
    if (prefixText === undefined && (isIPv4(address) || isIPv6(address))) return address;
    const prefix = Number(prefixText);
    if (!isIPv6(address) || address.includes(".") || !/^\d{1,3}$/.test(prefixText ?? "") || prefix > 128)
        throw new Error(`not an IPv4 or IPv6 address or IPv6 network: ${JSON.stringify(addressOrNetwork)}`);
    const value = ipv6Value(address);
    const hostBits = 128n - BigInt(prefix);
    const first = (value >> hostBits) << hostBits;
    const last = first | ((1n << hostBits) - 1n);
    return `${ipv6Text(first)}-${ipv6Text(last)}`;
}

function ipv6Value(address: string): bigint {
    const [head, tail = ""] = address.includes("::") ? address.split("::") : [address, undefined];
    const groups = (text: string | undefined) => (text ? text.split(":") : []);
    const given = [...groups(head), ...groups(tail)];
    const words = address.includes("::")
        ? [...groups(head), ...Array(8 - given.length).fill("0"), ...groups(tail)]
        : given;
    return words.reduce((sum, word) => (sum << 16n) | BigInt(parseInt(word, 16)), 0n);
}

function ipv6Text(value: bigint): string {
    const words = Array.from({ length: 8 }, (_, index) =>
        ((value >> BigInt(112 - 16 * index)) & 0xffffn).toString(16),
    );
    return words.join(":");
}

/**
 * Relay quotas from the size of the relay range: all allocations together at most one per port
 * (`total-quota`), one member's at most a quarter of them (`user-quota`, counted per member: the
 * family module puts the member in every TURN username), so one member's apps cannot take every
 * port and leave the rest of the family without calls.
 */
export function relayQuotas(relayPorts: { readonly min: number; readonly max: number }): {
    total: number;
    perMember: number;
} {
    const total = relayPorts.max - relayPorts.min + 1;
    return { total, perMember: Math.floor(total / 4) };
}

/** coturn's config without its secret, which the provisioning step appends. */
export function renderTurnServerConfig(
    model: FamilyModel,
    addresses: PublicAddresses,
    host: ServerHost = PRODUCTION_HOST,
): string {
    if (!model.calls)
        throw new Error("calls are turned off for this family: there is no TURN server to configure");
    const { paths, listeners } = host;
    const own = [addresses.ipv4, ...(addresses.ipv6 ? [addresses.ipv6] : [])].map((address) => ({
        range: peerRange(address),
        why: "the server's own public address: ports the firewall closes stay closed to relays",
    }));
    const quotas = relayQuotas(model.calls.relayPorts);
    return fillTemplate("turnserver.conf", {
        REALM: model.domain,
        LISTENING_IPS:
            listeners.turnInterfaces.length > 0
                ? listeners.turnInterfaces.map((address) => `listening-ip=${address}`).join("\n")
                : "# (every address of the server)",
        TURN_PORT: String(listeners.turnPort),
        TURNS_PORT: String(listeners.turnsPort),
        CERTIFICATE: paths.turnCertificate,
        PRIVATE_KEY: paths.turnPrivateKey,
        RELAY_PORT_MIN: String(model.calls.relayPorts.min),
        RELAY_PORT_MAX: String(model.calls.relayPorts.max),
        TOTAL_QUOTA: String(quotas.total),
        USER_QUOTA: String(quotas.perMember),
        DENIED_PEERS: [...DENIED_PEER_RANGES, ...own]
            .map(({ range, why }) => `# ${why}\ndenied-peer-ip=${range}`)
            .join("\n"),
    });
}

/** The settings Prosody needs to hand out credentials for the family's TURN server (not the secret). */
export function renderProsodyCallSettings(model: FamilyModel, host: ServerHost): string {
    return fillTemplate("prosody-calls.cfg.lua", {
        SECRETS_DIR: host.paths.prosodySecretsDir,
        TURN_HOST: model.hostname,
        TURN_PORT: String(host.listeners.turnPort),
        TURNS_PORT: String(host.listeners.turnsPort),
    });
}

/** The calls step: coturn's config with the secret, and Prosody's copy of the secret. */
export function renderSyncCallSecret(
    model: FamilyModel,
    addresses: PublicAddresses,
    host: ServerHost = PRODUCTION_HOST,
): string {
    const { paths, owners, commands } = host;
    const domainFile = (extension: string) =>
        shellWord(`${paths.certificatesDir}/${model.domain}.${extension}`);
    return renderScript(
        "sync-call-secret.sh",
        {
            TURN_CONFIG_BASE64: base64Lines(renderTurnServerConfig(model, addresses, host)),
            TURN_CONFIG: shellWord(paths.turnConfig),
            TURN_CONFIG_OWNER: shellWord(owners.turnSecrets),
            INSTALL_TURN: commands.installTurn,
            TURN_CERTIFICATE: shellWord(paths.turnCertificate),
            TURN_PRIVATE_KEY: shellWord(paths.turnPrivateKey),
            TURN_CERTIFICATE_OWNER: shellWord(owners.turnSecrets),
            PROSODY_CERTIFICATE: domainFile("crt"),
            PROSODY_PRIVATE_KEY: domainFile("key"),
            RESTART_TURN: commands.restartTurn,
            PROSODY_SECRETS_DIR: shellWord(paths.prosodySecretsDir),
            PROSODY_SECRETS_OWNER: shellWord(owners.prosodySecrets),
            DOMAIN: model.domain,
        },
        host,
    );
}
