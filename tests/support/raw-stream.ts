import { connect as tcpConnect, Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/**
 * A bare XMPP stream, for what a well-behaved client library refuses to do: authenticating
 * without TLS, or asking to register an account.
 */
export class RawStream {
    private buffer = "";
    /** The features the server offered on the plain connection, before any STARTTLS. */
    public plainFeatures = "";

    private constructor(
        private socket: Socket,
        private readonly domain: string,
    ) {
        this.listen();
    }

    static async open(port: number, domain: string, host = "127.0.0.1"): Promise<RawStream> {
        const socket = tcpConnect({ host, port });
        await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
        const stream = new RawStream(socket, domain);
        stream.plainFeatures = await stream.restart();
        return stream;
    }

    /** Sends a stream header and returns the server's <stream:features/>. */
    async restart(): Promise<string> {
        this.buffer = "";
        this.send(
            `<?xml version='1.0'?><stream:stream to='${this.domain}' version='1.0' ` +
                "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
        );
        return this.waitFor(/<stream:features[\s\S]*?<\/stream:features>/, "stream features");
    }

    /** STARTTLS, verifying the server's certificate for the domain. */
    async startTls(): Promise<string> {
        this.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        await this.waitFor(/<proceed[^>]*\/>/, "<proceed/>");
        this.socket.removeAllListeners("data");
        const secure = tlsConnect({ socket: this.socket, servername: this.domain });
        await new Promise<void>((resolve, reject) =>
            secure.once("secureConnect", resolve).once("error", reject),
        );
        this.socket = secure;
        this.listen();
        return this.restart();
    }

    send(data: string): void {
        this.socket.write(data);
    }

    waitFor(pattern: RegExp, what: string, timeoutMs = 5000): Promise<string> {
        return new Promise((resolve, reject) => {
            const check = () => {
                const match = pattern.exec(this.buffer);
                if (match) {
                    clearInterval(timer);
                    clearTimeout(timeout);
                    this.buffer = this.buffer.slice(match.index + match[0].length);
                    resolve(match[0]);
                }
            };
            const timer = setInterval(check, 20);
            const timeout = setTimeout(() => {
                clearInterval(timer);
                reject(
                    new Error(`no ${what} from the server within ${timeoutMs} ms; received: ${this.buffer}`),
                );
            }, timeoutMs);
            check();
        });
    }

    close(): void {
        this.socket.destroy();
    }

    private listen(): void {
        this.socket.on("data", (chunk: Buffer) => {
            this.buffer += chunk.toString("utf8");
        });
        this.socket.on("error", () => undefined);
    }
}
