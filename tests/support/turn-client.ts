import { createHash, createHmac, randomBytes } from "node:crypto";
import { createSocket, Socket } from "node:dgram";

/**
 * Just enough of a TURN client (RFC 8656) over UDP to hold many relay allocations at once, which
 * coturn's own test client cannot: each allocation on a socket of its own, authenticated with the
 * long-term credentials Prosody hands out, released again with a zero-lifetime Refresh.
 */

const MAGIC_COOKIE = 0x2112a442;
const ALLOCATE = 0x0003;
const REFRESH = 0x0004;
const SUCCESS = 0x0100;
const ATTRIBUTE = {
    username: 0x0006,
    messageIntegrity: 0x0008,
    errorCode: 0x0009,
    lifetime: 0x000d,
    realm: 0x0014,
    nonce: 0x0015,
    requestedTransport: 0x0019,
} as const;
const UDP = 17;
const ALLOCATION_MISMATCH = 437;

interface Reply {
    readonly success: boolean;
    readonly attributes: Map<number, Buffer>;
    /** Whether the request went out more than once before this answer came. */
    readonly retransmitted?: boolean;
}

/** An allocation's outcome: held (with a way to release it) or refused with a STUN error code. */
export type AllocationResult = { readonly code: 200; release(): Promise<void> } | { readonly code: number };

export interface TurnCredentials {
    readonly server: string;
    readonly port: number;
    readonly username: string;
    readonly password: string;
}

function attribute(type: number, value: Buffer): Buffer {
    const header = Buffer.alloc(4);
    header.writeUInt16BE(type, 0);
    header.writeUInt16BE(value.length, 2);
    const padding = Buffer.alloc((4 - (value.length % 4)) % 4);
    return Buffer.concat([header, value, padding]);
}

/** A request; with `key`, MESSAGE-INTEGRITY last, over everything before it (RFC 8489 §14.5). */
function message(type: number, attributes: Buffer[], key?: Buffer): Buffer {
    const header = Buffer.alloc(20);
    header.writeUInt16BE(type, 0);
    header.writeUInt32BE(MAGIC_COOKIE, 4);
    randomBytes(12).copy(header, 8);
    const body = Buffer.concat(attributes);
    header.writeUInt16BE(body.length + (key ? 24 : 0), 2);
    if (!key) return Buffer.concat([header, body]);
    const integrity = createHmac("sha1", key)
        .update(Buffer.concat([header, body]))
        .digest();
    return Buffer.concat([header, body, attribute(ATTRIBUTE.messageIntegrity, integrity)]);
}

function parse(packet: Buffer): Reply {
    const attributes = new Map<number, Buffer>();
    for (let offset = 20; offset + 4 <= packet.length;) {
        const type = packet.readUInt16BE(offset);
        const length = packet.readUInt16BE(offset + 2);
        attributes.set(type, packet.subarray(offset + 4, offset + 4 + length));
        offset += 4 + length + ((4 - (length % 4)) % 4);
    }
    return { success: (packet.readUInt16BE(0) & 0x0110) === SUCCESS, attributes };
}

function errorCode(reply: Reply): number {
    const value = reply.attributes.get(ATTRIBUTE.errorCode);
    return value ? value[2] * 100 + value[3] : 0;
}

function exchange(socket: Socket, credentials: TurnCredentials, request: Buffer): Promise<Reply> {
    return new Promise((resolve, reject) => {
        let tries = 0;
        const send = () => {
            if (++tries > 5) {
                socket.off("message", onMessage);
                reject(new Error(`no answer from ${credentials.server}:${credentials.port}`));
                return;
            }
            socket.send(request, credentials.port, credentials.server);
            timer = setTimeout(send, 1000);
        };
        const onMessage = (packet: Buffer) => {
            if (!packet.subarray(8, 20).equals(request.subarray(8, 20))) return;
            clearTimeout(timer);
            socket.off("message", onMessage);
            resolve({ ...parse(packet), retransmitted: tries > 1 });
        };
        let timer: NodeJS.Timeout;
        socket.on("message", onMessage);
        send();
    });
}

/**
 * Asks for one UDP relay with `credentials`, on a socket of its own. A first answer of 437 means
 * the server still holds an allocation for this local port, from an earlier socket the system gave
 * the same port to (one released late, or left to expire): as RFC 5766 (6.4) has a client do, ask
 * again from another port.
 */
export async function allocate(credentials: TurnCredentials): Promise<AllocationResult> {
    for (let attempt = 1; ; attempt++) {
        const result = await allocateFromNewPort(credentials);
        if (result.code !== ALLOCATION_MISMATCH || attempt === 3) return result;
    }
}

async function allocateFromNewPort(credentials: TurnCredentials): Promise<AllocationResult> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    const transport = attribute(ATTRIBUTE.requestedTransport, Buffer.from([UDP, 0, 0, 0]));
    const challenge = await exchange(socket, credentials, message(ALLOCATE, [transport]));
    const realm = challenge.attributes.get(ATTRIBUTE.realm) ?? Buffer.alloc(0);
    const nonce = challenge.attributes.get(ATTRIBUTE.nonce) ?? Buffer.alloc(0);
    const key = createHash("md5")
        .update(`${credentials.username}:${realm.toString()}:${credentials.password}`)
        .digest();
    const signed = (type: number, extra: Buffer[]) =>
        message(
            type,
            [
                attribute(ATTRIBUTE.username, Buffer.from(credentials.username)),
                attribute(ATTRIBUTE.realm, realm),
                attribute(ATTRIBUTE.nonce, nonce),
                ...extra,
            ],
            key,
        );
    const reply = await exchange(socket, credentials, signed(ALLOCATE, [transport]));
    // A busy server may answer the first copy late and the second with 437 (allocation mismatch):
    // the allocation exists, made by the first copy (RFC 5766, 6.2).
    const madeByFirstCopy = reply.retransmitted === true && errorCode(reply) === ALLOCATION_MISMATCH;
    if (!reply.success && !madeByFirstCopy) {
        socket.close();
        return { code: errorCode(reply) };
    }
    return {
        code: 200,
        release: async () => {
            const zero = Buffer.alloc(4);
            await exchange(socket, credentials, signed(REFRESH, [attribute(ATTRIBUTE.lifetime, zero)]));
            socket.close();
        },
    };
}
