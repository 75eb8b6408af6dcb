import { PRODUCTION_LISTENERS } from "../render/layout";
import { checkCertificates } from "./certificate";
import { checkDnsRecords } from "./dns-records";
import { checkLogin } from "./login";
import { checkPorts } from "./ports";
import { CheckOptions, CheckPorts, CheckReport } from "./report";

export const PRODUCTION_PORTS: CheckPorts = {
    c2s: PRODUCTION_LISTENERS.c2sPort,
    c2sDirectTls: PRODUCTION_LISTENERS.c2sDirectTlsPort,
    https: PRODUCTION_LISTENERS.httpsPort,
    s2s: PRODUCTION_LISTENERS.s2sPort,
    s2sDirectTls: PRODUCTION_LISTENERS.s2sDirectTlsPort,
    turn: PRODUCTION_LISTENERS.turnPort,
    turns: PRODUCTION_LISTENERS.turnsPort,
};

/**
 * The post-deploy check, from outside the server: the DNS records resolvers return against the
 * ones the stack declares, the certificate on every TLS port, the ports, and a member's login.
 */
export async function runCheck(options: CheckOptions): Promise<CheckReport> {
    const host = options.host ?? options.addresses.ipv4;
    const ports = { ...PRODUCTION_PORTS, ...options.ports };
    const [dns, portResults, certificates, login] = await Promise.all([
        checkDnsRecords(options),
        checkPorts(options, host, ports),
        checkCertificates(options, host, ports),
        checkLogin(options, host, ports),
    ]);
    const results = [...dns, ...portResults, ...certificates, login];
    return { ok: results.every((result) => result.status !== "fail"), results };
}
