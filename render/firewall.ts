import { FamilyModel } from "../model/family";
import { PRODUCTION_HOST } from "./layout";

export interface FirewallRule {
    readonly protocol: "tcp" | "udp" | "icmp";
    /** A port or a range "a-b"; none for ICMP. */
    readonly port?: string;
    readonly sourceIps: readonly string[];
    readonly description: string;
}

const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** Inbound rules; Hetzner drops everything else. Outbound stays open (updates, federation, DNS). */
export function renderFirewallRules(model: FamilyModel): FirewallRule[] {
    return [
        { protocol: "tcp", port: "22", sourceIps: [...model.sshAllowedCidrs], description: "SSH, keys only" },
        {
            protocol: "tcp",
            port: String(PRODUCTION_HOST.listeners.c2sPort),
            sourceIps: ANYWHERE,
            description: "XMPP apps (STARTTLS)",
        },
        {
            protocol: "tcp",
            port: String(PRODUCTION_HOST.listeners.c2sDirectTlsPort),
            sourceIps: ANYWHERE,
            description: "XMPP apps (direct TLS)",
        },
        {
            protocol: "tcp",
            port: String(PRODUCTION_HOST.listeners.httpsPort),
            sourceIps: ANYWHERE,
            description: "shared files (HTTPS)",
        },
        ...(model.federation
            ? [
                  {
                      protocol: "tcp" as const,
                      port: String(PRODUCTION_HOST.listeners.s2sPort),
                      sourceIps: ANYWHERE,
                      description: "XMPP federation (STARTTLS)",
                  },
                  {
                      protocol: "tcp" as const,
                      port: String(PRODUCTION_HOST.listeners.s2sDirectTlsPort),
                      sourceIps: ANYWHERE,
                      description: "XMPP federation (direct TLS)",
                  },
              ]
            : []),
        ...(model.calls
            ? [
                  {
                      protocol: "udp" as const,
                      port: String(PRODUCTION_HOST.listeners.turnPort),
                      sourceIps: ANYWHERE,
                      description: "calls: STUN and TURN",
                  },
                  {
                      protocol: "tcp" as const,
                      port: String(PRODUCTION_HOST.listeners.turnPort),
                      sourceIps: ANYWHERE,
                      description: "calls: TURN over TCP",
                  },
                  {
                      protocol: "tcp" as const,
                      port: String(PRODUCTION_HOST.listeners.turnsPort),
                      sourceIps: ANYWHERE,
                      description: "calls: TURN over TLS",
                  },
                  {
                      protocol: "udp" as const,
                      port: `${model.calls.relayPorts.min}-${model.calls.relayPorts.max}`,
                      sourceIps: ANYWHERE,
                      description: "calls: relayed media",
                  },
              ]
            : []),
        { protocol: "icmp", sourceIps: ANYWHERE, description: "ping and path MTU discovery" },
    ];
}
