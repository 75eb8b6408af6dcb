import { CheckOptions, CheckPorts, CheckResult } from "./report";
import { stunAnswers, tcpAnswers } from "./connections";

/** Every port the family's apps and other servers need, as the config turns them on. */
export async function checkPorts(
    options: CheckOptions,
    host: string,
    ports: CheckPorts,
): Promise<CheckResult[]> {
    const { model } = options;
    const timeoutMs = options.timeoutMs ?? 5000;
    const tcp = (port: number, what: string) => ({
        name: `port ${port}/tcp (${what})`,
        probe: () => tcpAnswers(host, port, timeoutMs),
    });
    const probes = [
        tcp(ports.c2s, "apps, STARTTLS"),
        tcp(ports.c2sDirectTls, "apps, direct TLS"),
        tcp(ports.https, "shared files, HTTPS"),
        ...(model.federation
            ? [
                  tcp(ports.s2s, "other servers, STARTTLS"),
                  tcp(ports.s2sDirectTls, "other servers, direct TLS"),
              ]
            : []),
        ...(model.calls
            ? [
                  {
                      name: `port ${ports.turn}/udp (calls, STUN)`,
                      probe: () => stunAnswers(host, ports.turn, timeoutMs),
                  },
                  tcp(ports.turn, "calls, TURN over TCP"),
                  tcp(ports.turns, "calls, TURN over TLS"),
              ]
            : []),
    ];
    return Promise.all(
        probes.map(async ({ name, probe }): Promise<CheckResult> => {
            try {
                await probe();
                return { name, status: "ok", detail: "answers" };
            } catch (error) {
                const code = (error as NodeJS.ErrnoException).code;
                return {
                    name,
                    status: "fail",
                    detail: `does not answer (${code ?? (error as Error).message})`,
                };
            }
        }),
    );
}
