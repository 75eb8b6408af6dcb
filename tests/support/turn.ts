import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { AddressInfo, createServer, Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { xml } from "@xmpp/client";
import { Session } from "./xmpp";

/** One entry of a server's external services (XEP-0215). */
export interface ExternalService {
    readonly type: string;
    readonly transport: string;
    readonly host: string;
    readonly port: number;
    readonly username?: string;
    readonly password?: string;
    readonly expires?: string;
}

/** Asks the member's server for its STUN/TURN services, as Conversations does before a call. */
export async function externalServices(session: Session, domain: string): Promise<ExternalService[]> {
    const result = await session.xmpp.iqCaller.request(
        xml("iq", { type: "get", to: domain }, xml("services", { xmlns: "urn:xmpp:extdisco:2" })),
    );
    return (result.getChild("services", "urn:xmpp:extdisco:2")?.getChildren("service") ?? []).map(
        (service) => ({
            type: service.attrs.type ?? "",
            transport: service.attrs.transport ?? "",
            host: service.attrs.host ?? "",
            port: Number(service.attrs.port),
            ...(service.attrs.username
                ? {
                      username: service.attrs.username,
                      password: service.attrs.password,
                      expires: service.attrs.expires,
                  }
                : {}),
        }),
    );
}

/**
 * The TURN service over `transport` in a server's answer; throws, naming what it offered, if there
 * is none.
 */
export function turnService(services: readonly ExternalService[], transport: "udp" | "tcp"): ExternalService {
    const service = services.find(
        (candidate) => candidate.type === "turn" && candidate.transport === transport,
    );
    if (!service) throw new Error(`no TURN service over ${transport} among ${JSON.stringify(services)}`);
    return service;
}

export interface RelayAttempt {
    readonly server: string;
    readonly port: number;
    readonly transport: "udp" | "tcp" | "tls";
    readonly username: string;
    readonly password: string;
    /** The far end of the call: a turnutils_peer listening on port 3480. */
    readonly peer: string;
    /** For TLS: the CA that must have signed the server's certificate, and the name it must carry. */
    readonly caFile?: string;
    readonly tlsName?: string;
    /** A TCP relay (RFC 6062): two clients relaying to each other over TCP, the peer unused. */
    readonly tcpRelay?: boolean;
}

export interface RelayResult {
    /** Messages sent through the relay and echoed back by the peer. */
    readonly echoed: number;
    readonly output: string;
}

/** How many packets a relay attempt sends; all of them come back when the relay works. */
export const RELAY_MESSAGES = 5;

/**
 * Relays a few packets through the TURN server with coturn's own test client (turnutils_uclient).
 * Its TLS mode stalls in the handshake now and then (Debian's 4.6.1 on OpenSSL 3), so TURN over
 * TLS goes through a local TLS tunnel instead: uclient speaks TURN over TCP into it, and Node's TLS
 * carries it to coturn's TLS port, verifying the certificate for the TURN host name.
 */
export async function relayThrough(attempt: RelayAttempt): Promise<RelayResult> {
    if (attempt.transport !== "tls") return runUclient(attempt, attempt.server, attempt.port);
    const tunnel = await tlsTunnel(attempt);
    try {
        return await runUclient(attempt, "127.0.0.1", tunnel.port);
    } finally {
        tunnel.close();
    }
}

function tlsTunnel(attempt: RelayAttempt): Promise<{ port: number; close(): void }> {
    const sockets: Socket[] = [];
    const server = createServer((plain) => {
        const secure = tlsConnect({
            host: attempt.server,
            port: attempt.port,
            servername: attempt.tlsName,
            ca: attempt.caFile ? readFileSync(attempt.caFile) : undefined,
            minVersion: "TLSv1.2",
        });
        sockets.push(plain, secure);
        secure.on("error", () => plain.destroy());
        plain.on("error", () => secure.destroy());
        plain.pipe(secure).pipe(plain);
    });
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            resolve({
                port: (server.address() as AddressInfo).port,
                close: () => {
                    for (const socket of sockets) socket.destroy();
                    server.close();
                },
            });
        });
    });
}

function runUclient(attempt: RelayAttempt, server: string, port: number): Promise<RelayResult> {
    const args = [
        ...(attempt.transport === "udp" ? [] : ["-t"]),
        ...(attempt.tcpRelay ? ["-T"] : []),
        "-p",
        String(port),
        "-u",
        attempt.username,
        "-w",
        attempt.password,
        "-e",
        attempt.peer,
        "-n",
        String(RELAY_MESSAGES),
        "-c",
        "-X",
        server,
    ];
    return new Promise((resolve, reject) => {
        const client = spawn("turnutils_uclient", args, { stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        client.stdout.on("data", (chunk: Buffer) => {
            output += chunk.toString();
        });
        client.stderr.on("data", (chunk: Buffer) => {
            output += chunk.toString();
        });
        const timer = setTimeout(() => client.kill("SIGKILL"), 20_000);
        client.once("error", reject);
        client.once("close", () => {
            clearTimeout(timer);
            const totals = /tot_send_msgs=\d+, tot_recv_msgs=(\d+)\s*$/m.exec(output);
            resolve({ echoed: totals ? Number(totals[1]) : 0, output });
        });
    });
}
