import { StreamReader, streamHeader, tlsSession } from "./connections";
import { CheckOptions, CheckPorts, CheckResult } from "./report";

const NAME = "a member logs in";

/**
 * A member's login over direct TLS with SASL PLAIN, as an app does it. Only over a trusted
 * certificate: a password is never sent to a server the check could not authenticate.
 */
export async function checkLogin(
    options: CheckOptions,
    host: string,
    ports: CheckPorts,
): Promise<CheckResult> {
    const { model } = options;
    const accounts = Object.entries(options.credentials ?? {}).filter(([jid]) =>
        jid.endsWith(`@${model.domain}`),
    );
    if (accounts.length === 0) return { name: NAME, status: "skip", detail: "no credentials given" };
    const timeoutMs = options.timeoutMs ?? 5000;
    const refused: string[] = [];
    for (const [jid, password] of accounts) {
        let socket;
        try {
            socket = await tlsSession({
                host,
                port: ports.c2sDirectTls,
                servername: model.domain,
                alpn: ["xmpp-client"],
                extraCaCertificates: options.extraCaCertificates ?? [],
                timeoutMs,
            });
        } catch (error) {
            return {
                name: NAME,
                status: "fail",
                detail: `no TLS on ${ports.c2sDirectTls}: ${(error as Error).message}`,
            };
        }
        try {
            if (!socket.authorized)
                return {
                    name: NAME,
                    status: "skip",
                    detail: `not tried: the certificate on ${ports.c2sDirectTls} is not trusted`,
                };
            const reader = new StreamReader(socket);
            socket.write(streamHeader(model.domain));
            const features = await reader.until(/<\/stream:features>/, timeoutMs);
            if (!/<mechanism>PLAIN<\/mechanism>/.test(features))
                return { name: NAME, status: "fail", detail: "the server offers no SASL PLAIN over TLS" };
            const localpart = jid.slice(0, jid.lastIndexOf("@"));
            const token = Buffer.from(`\0${localpart}\0${password}`, "utf8").toString("base64");
            socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${token}</auth>`);
            const outcome = await reader.until(/<(success|failure)[\s\S]*?(\/>|<\/\1>)/, timeoutMs);
            socket.write("</stream:stream>");
            if (/<success/.test(outcome)) return { name: NAME, status: "ok", detail: `${jid} logged in` };
            refused.push(jid);
        } catch (error) {
            return { name: NAME, status: "fail", detail: `${jid}: ${(error as Error).message}` };
        } finally {
            socket.destroy();
        }
    }
    return { name: NAME, status: "fail", detail: `the server refused ${refused.join(", ")}` };
}
