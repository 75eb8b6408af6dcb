// The parts of @xmpp/client (which ships no types) that the tests use.
declare module "@xmpp/client" {
    export interface Element {
        readonly name: string;
        readonly attrs: Record<string, string | undefined>;
        readonly children: (Element | string)[];
        is(name: string, xmlns?: string): boolean;
        getChild(name: string, xmlns?: string): Element | undefined;
        getChildren(name: string, xmlns?: string): Element[];
        getChildText(name: string, xmlns?: string): string | null;
        text(): string;
        toString(): string;
    }

    export interface JID {
        toString(): string;
        bare(): JID;
    }

    export interface Client {
        start(): Promise<JID>;
        stop(): Promise<void>;
        send(...elements: Element[]): Promise<void>;
        on(event: "stanza", listener: (stanza: Element) => void): this;
        /** Top-level elements that are not stanzas, such as stream features. */
        on(event: "nonza", listener: (element: Element) => void): this;
        on(event: "error", listener: (error: Error) => void): this;
        on(event: "online", listener: (jid: JID) => void): this;
        on(event: string, listener: (...args: unknown[]) => void): this;
        readonly iqCaller: { request(iq: Element, timeout?: number): Promise<Element> };
        /** Reconnects after `delay` ms when the connection is lost (default 1000). */
        readonly reconnect: { stop(): void; delay: number };
        /** XEP-0198, negotiated at login (inline with SASL2/Bind 2 where the server offers it). */
        readonly streamManagement: {
            readonly enabled: boolean;
            readonly id: string;
            on(event: "resumed", listener: () => void): void;
        };
        /** XEP-0484: the token this client was given, if the server offered FAST. */
        readonly fast: { fetchToken(): Promise<FastToken | undefined> };
        jid?: JID;
    }

    export interface FastToken {
        readonly mechanism: string;
        readonly token: string;
        readonly expiry: string;
    }

    export interface ClientOptions {
        service: string;
        domain: string;
        /** How long each step of connecting may take, in ms (default 2000). */
        timeout?: number;
        username?: string;
        password?: string;
        resource?: string;
        /** Called with the server's mechanisms to authenticate as the caller chooses. */
        credentials?: (
            authenticate: (
                credentials: { username: string; password: string; token?: FastToken },
                mechanism: string,
                userAgent?: Element,
            ) => Promise<void>,
            mechanisms: string[],
        ) => Promise<void>;
    }

    export function client(options: ClientOptions): Client;
    export function xml(
        name: string,
        attrs?: Record<string, string>,
        ...children: (Element | string)[]
    ): Element;
}
