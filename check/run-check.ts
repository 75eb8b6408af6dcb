import { SERVER_PORTS } from "../model/known-values";
import { Listeners } from "../render/layout";
import { checkBackup } from "./backup";
import { checkCertificates } from "./certificate";
import { checkDnsRecords } from "./dns-records";
import { checkLogin } from "./login";
import { checkPorts } from "./ports";
import { CheckOptions, CheckPorts, CheckReport } from "./report";

export const PRODUCTION_PORTS: CheckPorts = SERVER_PORTS;

/** The ports a server host listens on (a `ServerHost`'s listeners), as the check takes them. */
export function checkPortsOf(listeners: Listeners): CheckPorts {
    return {
        c2s: listeners.c2sPort,
        c2sDirectTls: listeners.c2sDirectTlsPort,
        https: listeners.httpsPort,
        s2s: listeners.s2sPort,
        s2sDirectTls: listeners.s2sDirectTlsPort,
        turn: listeners.turnPort,
        turns: listeners.turnsPort,
    };
}

/**
 * The post-deploy check, from outside the server: the DNS records resolvers return against the
 * ones the stack declares, the certificate on every TLS port, the ports, a member's login, and the
 * age of the last good backup.
 */
export async function runCheck(options: CheckOptions): Promise<CheckReport> {
    const host = options.host ?? options.addresses.ipv4;
    const ports = { ...PRODUCTION_PORTS, ...options.ports };
    const [dns, portResults, certificates, login, backup] = await Promise.all([
        checkDnsRecords(options),
        checkPorts(options, host, ports),
        checkCertificates(options, host, ports),
        checkLogin(options, host, ports),
        checkBackup(options, host, ports),
    ]);
    const results = [...dns, ...portResults, ...certificates, login, backup];
    return { ok: results.every((result) => result.status !== "fail"), results };
}
