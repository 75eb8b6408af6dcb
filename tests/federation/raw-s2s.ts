import { createHash, createHmac } from "node:crypto";
import { connect, TLSSocket } from "node:tls";

/**
 * A server-to-server stream written by hand, for what no well-behaved server does: asking a family
 * server, on a stream authenticated for one domain, to accept another domain by dialback alone
 * (XEP-0220 "piggybacking").
 */
export class RawServerStream {
    private buffer = "";
    /** Everything the server sent on this stream. */
    transcript = "";

    private constructor(private readonly socket: TLSSocket) {
        socket.on("data", (chunk: Buffer) => {
            this.buffer += chunk.toString("utf8");
            this.transcript += chunk.toString("utf8");
        });
        socket.on("error", () => undefined);
    }

    /** Direct TLS (XEP-0368) to `address:port`, presenting `certificate` as the sending server's. */
    static async open(
        address: string,
        port: number,
        from: string,
        to: string,
        certificate: { readonly key: string; readonly cert: string },
    ): Promise<{ stream: RawServerStream; streamId: string }> {
        const socket = connect({
            host: address,
            port,
            servername: to,
            ALPNProtocols: ["xmpp-server"],
            ...certificate,
        });
        await new Promise<void>((resolve, reject) =>
            socket.once("secureConnect", resolve).once("error", reject),
        );
        const stream = new RawServerStream(socket);
        stream.send(
            `<?xml version='1.0'?><stream:stream xmlns='jabber:server' ` +
                "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' " +
                `from='${from}' to='${to}' version='1.0'>`,
        );
        const header = await stream.waitFor(/<stream:stream[^>]*>/, "the stream header");
        await stream.waitFor(/<\/stream:features>/, "the stream features");
        const streamId = /\sid=['"]([^'"]+)['"]/.exec(header)?.[1] ?? "";
        return { stream, streamId };
    }

    send(data: string): void {
        this.socket.write(data);
    }

    waitFor(pattern: RegExp, what: string, timeoutMs = 5000): Promise<string> {
        return new Promise((resolve, reject) => {
            const started = Date.now();
            const check = () => {
                const match = pattern.exec(this.buffer);
                if (match) {
                    this.buffer = this.buffer.slice(match.index + match[0].length);
                    resolve(match[0]);
                } else if (Date.now() - started > timeoutMs) {
                    reject(new Error(`no ${what} within ${timeoutMs} ms; received: ${this.buffer}`));
                } else setTimeout(check, 20);
            };
            check();
        });
    }

    close(): void {
        this.socket.destroy();
    }
}

/**
 * The dialback key a Prosody with `dialback_secret` generates for a stream (mod_dialback:
 * HMAC-SHA-256 keyed with the secret's SHA-256, over "receiving originating streamid"), which is
 * what its authoritative server confirms.
 */
export function dialbackKey(
    secret: string,
    receiving: string,
    originating: string,
    streamId: string,
): string {
    const key = createHash("sha256").update(secret).digest("hex");
    return createHmac("sha256", key).update(`${receiving} ${originating} ${streamId}`).digest("hex");
}
