import { FamilyModel } from "../model/family";
import { PRODUCTION_HOST, ServerHost } from "./layout";
import { base64Lines, fillTemplate, renderScript, shellWord } from "./template";

/**
 * Peers coturn never relays to, so that a relay for calls is never a way into what lies behind
 * the server. Multicast is refused by `no-multicast-peers`.
 */
export const DENIED_PEER_RANGES: readonly { readonly range: string; readonly why: string }[] = [
    { range: "0.0.0.0-0.255.255.255", why: '"this network"' },
    { range: "10.0.0.0-10.255.255.255", why: "private networks (Hetzner's included)" },
    { range: "100.64.0.0-100.127.255.255", why: "carrier-grade NAT" },
    { range: "127.0.0.0-127.255.255.255", why: "the server's own loopback services" },
    { range: "169.254.0.0-169.254.255.255", why: "link-local, the cloud's metadata service" },
    { range: "172.16.0.0-172.31.255.255", why: "private networks" },
    { range: "192.0.0.0-192.0.0.255", why: "IETF protocol assignments" },
    { range: "192.168.0.0-192.168.255.255", why: "private networks" },
    { range: "198.18.0.0-198.19.255.255", why: "benchmarking networks" },
    { range: "240.0.0.0-255.255.255.255", why: "reserved and broadcast" },
    { range: "::1", why: "the server's own loopback services" },
    {
        range: "::ffff:0.0.0.0-::ffff:255.255.255.255",
        why: "IPv4-mapped addresses, a way around the IPv4 rules",
    },
    { range: "64:ff9b::-64:ff9b::ffff:ffff", why: "NAT64, another way to IPv4" },
    { range: "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", why: "unique local (private) networks" },
    { range: "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", why: "link-local" },
];

/** coturn's config without its secret, which the provisioning step appends. */
export function renderTurnServerConfig(model: FamilyModel, host: ServerHost = PRODUCTION_HOST): string {
    if (!model.calls)
        throw new Error("calls are turned off for this family: there is no TURN server to configure");
    const { paths, listeners } = host;
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
        DENIED_PEERS: DENIED_PEER_RANGES.map(({ range, why }) => `# ${why}\ndenied-peer-ip=${range}`).join(
            "\n",
        ),
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
export function renderSyncCallSecret(model: FamilyModel, host: ServerHost = PRODUCTION_HOST): string {
    const { paths, owners, commands } = host;
    const domainFile = (extension: string) =>
        shellWord(`${paths.certificatesDir}/${model.domain}.${extension}`);
    return renderScript(
        "sync-call-secret.sh",
        {
            TURN_CONFIG_BASE64: base64Lines(renderTurnServerConfig(model, host)),
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
