import { createSocket } from "node:dgram";
import { randomBytes } from "node:crypto";
import { connect, Socket } from "node:net";
import { connect as tlsConnect, rootCertificates, TLSSocket } from "node:tls";

/** Resolves when something accepts TCP connections on host:port; rejects with why not. */
export function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
        const socket = connect({ host, port });
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        socket.once("connect", () => {
            socket.destroy();
            resolve();
        });
        socket.once("error", reject);
    });
}

/** Resolves when a STUN server answers a binding request (RFC 8489) on host:port over UDP. */
export function stunAnswers(host: string, port: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
        const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
        const transaction = randomBytes(12);
        // Binding request, no attributes, the magic cookie, a transaction id.
        const request = Buffer.concat([
            Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]),
            transaction,
        ]);
        const timer = setTimeout(() => finish(new Error(`no STUN answer within ${timeoutMs} ms`)), timeoutMs);
        const finish = (error?: Error) => {
            clearTimeout(timer);
            socket.close();
            if (error) reject(error);
            else resolve();
        };
        socket.on("message", (message) => {
            if (
                message.length >= 20 &&
                message.readUInt16BE(0) === 0x0101 &&
                message.subarray(8, 20).equals(transaction)
            )
                finish();
        });
        socket.once("error", (error) => finish(error));
        socket.send(request, port, host);
    });
}

/** Text arriving on a stream, read until a pattern shows up. */
export class StreamReader {
    private buffer = "";
    private waiting?: () => void;

    constructor(private readonly socket: Socket) {
        socket.on("data", (chunk: Buffer) => {
            this.buffer += chunk.toString("utf8");
            this.waiting?.();
        });
        socket.on("close", () => this.waiting?.());
    }

    /** Everything received up to and including the first match of `pattern`, which it consumes. */
    async until(pattern: RegExp, timeoutMs: number): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const match = pattern.exec(this.buffer);
            if (match) {
                const upTo = match.index + match[0].length;
                const text = this.buffer.slice(0, upTo);
                this.buffer = this.buffer.slice(upTo);
                return text;
            }
            if (this.socket.destroyed) throw new Error(`the connection closed before ${pattern}`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no ${pattern} within ${timeoutMs} ms`);
            await new Promise<void>((wake) => {
                const timer = setTimeout(wake, left);
                this.waiting = () => {
                    clearTimeout(timer);
                    wake();
                };
            });
        }
    }
}

export function streamHeader(domain: string): string {
    return (
        `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' ` +
        "xmlns:stream='http://etherx.jabber.org/streams'>"
    );
}

export interface TlsTarget {
    readonly host: string;
    readonly port: number;
    /** SNI: which of the server's names the client asks for. */
    readonly servername: string;
    readonly extraCaCertificates: readonly string[];
    readonly timeoutMs: number;
    readonly alpn?: string[];
}

/** A TLS connection whose certificate is checked by the caller (`authorized`, the peer certificate). */
export function tlsSession(target: TlsTarget, socket?: Socket): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
        const tls = tlsConnect({
            host: target.host,
            port: target.port,
            socket,
            servername: target.servername,
            ALPNProtocols: target.alpn,
            ca: [...rootCertificates, ...target.extraCaCertificates],
            rejectUnauthorized: false,
        });
        tls.setTimeout(target.timeoutMs, () =>
            tls.destroy(new Error(`no TLS within ${target.timeoutMs} ms`)),
        );
        tls.once("secureConnect", () => {
            tls.setTimeout(0);
            resolve(tls);
        });
        tls.once("error", reject);
    });
}

/** XMPP's STARTTLS (RFC 6120 §5): the stream opened in the clear, then TLS on the same connection. */
export async function startTls(target: TlsTarget, domain: string): Promise<TLSSocket> {
    const socket = connect({ host: target.host, port: target.port });
    await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
    });
    try {
        const reader = new StreamReader(socket);
        socket.write(streamHeader(domain));
        const features = await reader.until(/<\/stream:features>/, target.timeoutMs);
        if (!features.includes("urn:ietf:params:xml:ns:xmpp-tls"))
            throw new Error("the server offers no STARTTLS");
        socket.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        await reader.until(/<proceed[^>]*\/>/, target.timeoutMs);
        socket.removeAllListeners("data");
        return await tlsSession(target, socket);
    } catch (error) {
        socket.destroy();
        throw error;
    }
}
