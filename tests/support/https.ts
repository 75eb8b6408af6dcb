import { request } from "node:https";

/**
 * An HTTPS request to a URL on the family's hosts, sent to `address` (no DNS here) with the URL's
 * host name for SNI, certificate check and Host header.
 */
export function httpsAt(
    address: string,
    url: string,
    method: string,
    body?: Buffer,
    headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer }> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
        const outgoing = request(
            {
                host: address,
                port: Number(target.port || 443),
                path: target.pathname + target.search,
                method,
                servername: target.hostname,
                headers: {
                    host: target.host,
                    ...headers,
                    ...(body ? { "content-length": String(body.length) } : {}),
                },
            },
            (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () =>
                    resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
                );
            },
        );
        outgoing.on("error", reject);
        outgoing.end(body);
    });
}
