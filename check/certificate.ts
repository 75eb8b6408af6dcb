import { checkServerIdentity, PeerCertificate, TLSSocket } from "node:tls";
import { uploadHost } from "../model/family";
import { certificateNames } from "../render/certificates";
import { startTls, tlsSession } from "./connections";
import { CheckOptions, CheckPorts, CheckResult } from "./report";

const DAY_MS = 24 * 60 * 60 * 1000;

/** What one served certificate is worth: trusted, covering every name, and how long it lasts. */
export function judgeCertificate(
    name: string,
    socket: TLSSocket,
    names: readonly string[],
    now: Date,
    warnDays: number,
): CheckResult {
    const certificate: PeerCertificate = socket.getPeerCertificate();
    const validTo = new Date(certificate.valid_to);
    const validFrom = new Date(certificate.valid_from);
    const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
    const until = validTo.toISOString().slice(0, 10);
    if (validTo.getTime() <= now.getTime())
        return { name, status: "fail", detail: `the certificate expired on ${until}` };
    if (validFrom.getTime() > now.getTime())
        return {
            name,
            status: "fail",
            detail: `the certificate is valid only from ${validFrom.toISOString()}`,
        };
    const uncovered = names.filter((host) => checkServerIdentity(host, certificate) !== undefined);
    if (uncovered.length > 0)
        return { name, status: "fail", detail: `the certificate does not cover ${uncovered.join(", ")}` };
    if (!socket.authorized)
        return {
            name,
            status: "fail",
            detail: `the certificate is not trusted: ${socket.authorizationError}`,
        };
    const detail = `covers ${names.join(", ")}; expires ${until} (in ${daysLeft} days)`;
    return { name, status: daysLeft < warnDays ? "warn" : "ok", detail };
}

/** The certificate on the apps' ports (STARTTLS and direct TLS) and on HTTPS, each as a client sees it. */
export async function checkCertificates(
    options: CheckOptions,
    host: string,
    ports: CheckPorts,
): Promise<CheckResult[]> {
    const { model } = options;
    const names = certificateNames(model);
    const base = {
        host,
        extraCaCertificates: options.extraCaCertificates ?? [],
        timeoutMs: options.timeoutMs ?? 5000,
    };
    const targets: { name: string; open: () => Promise<TLSSocket> }[] = [
        {
            name: `certificate on ${ports.c2s} (STARTTLS)`,
            open: () => startTls({ ...base, port: ports.c2s, servername: model.domain }, model.domain),
        },
        {
            name: `certificate on ${ports.c2sDirectTls} (direct TLS)`,
            open: () =>
                tlsSession({
                    ...base,
                    port: ports.c2sDirectTls,
                    servername: model.domain,
                    alpn: ["xmpp-client"],
                }),
        },
        {
            name: `certificate on ${ports.https} (HTTPS)`,
            open: () =>
                tlsSession({ ...base, port: ports.https, servername: uploadHost(model), alpn: ["http/1.1"] }),
        },
    ];
    return Promise.all(
        targets.map(async ({ name, open }): Promise<CheckResult> => {
            let socket: TLSSocket;
            try {
                socket = await open();
            } catch (error) {
                return { name, status: "fail", detail: `no TLS: ${(error as Error).message}` };
            }
            try {
                return judgeCertificate(
                    name,
                    socket,
                    names,
                    options.now ?? new Date(),
                    options.warnDays ?? 14,
                );
            } finally {
                socket.destroy();
            }
        }),
    );
}
