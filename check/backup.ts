import { BACKUP_MAX_AGE_HOURS } from "../model/known-values";
import { StreamReader, streamHeader, tlsSession } from "./connections";
import { CheckOptions, CheckPorts, CheckResult } from "./report";

const NAME = "the last good backup";
const NAMESPACE = "urn:family-xmpp:backup:0";

/** What the family module answers about the backup (config-templates/mod_family_xmpp.lua). */
export interface BackupStatus {
    readonly state: "ok" | "pending" | "overdue" | "off";
    /** Unix seconds of the last good backup, if any. */
    readonly success?: number;
    /** Why the last attempt failed, when it did. */
    readonly error?: string;
}

/**
 * How old the last good backup is, as the server's own Prosody module knows it, asked over XMPP by a
 * member (only the family's accounts may ask): nothing about the repository leaves the server but
 * the time of the last backup and why the last attempt failed. Older than two days is a failure.
 */
export async function checkBackup(
    options: CheckOptions,
    host: string,
    ports: CheckPorts,
): Promise<CheckResult> {
    const { model } = options;
    if (!model.backup)
        return {
            name: NAME,
            status: "warn",
            detail: "backups are off (backup: false): nothing is backed up",
        };
    const account = Object.entries(options.credentials ?? {}).find(([jid]) =>
        jid.endsWith(`@${model.domain}`),
    );
    if (!account) return { name: NAME, status: "skip", detail: "no credentials given to ask the server" };
    let status: BackupStatus | string;
    try {
        status = await askBackupStatus(options, host, ports.c2sDirectTls, account);
    } catch (error) {
        return {
            name: NAME,
            status: "fail",
            detail: `could not ask the server: ${(error as Error).message}`,
        };
    }
    if (typeof status === "string") return { name: NAME, status: "skip", detail: status };
    return backupResult(status, options.now ?? new Date());
}

/** The check's verdict on a status: older than two days fails, a failed last attempt warns. */
export function backupResult(status: BackupStatus, now: Date): CheckResult {
    const failed = status.error ? `; the last attempt failed: ${status.error}` : "";
    if (status.state === "off")
        return {
            name: NAME,
            status: "fail",
            detail: "the server has no backup set up, though the config names a repository: run pulumi up",
        };
    if (status.success === undefined) {
        return status.state === "overdue"
            ? { name: NAME, status: "fail", detail: `no backup has ever succeeded${failed}` }
            : {
                  name: NAME,
                  status: failed ? "warn" : "ok",
                  detail: `none yet, the first is due tonight${failed}`,
              };
    }
    const hours = Math.floor((now.getTime() / 1000 - status.success) / 3600);
    const when = `${new Date(status.success * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
    const age = hours >= 48 ? `${Math.floor(hours / 24)} days` : `${hours} hours`;
    if (hours >= BACKUP_MAX_AGE_HOURS)
        return { name: NAME, status: "fail", detail: `${age} old (${when}), more than two days${failed}` };
    return { name: NAME, status: failed ? "warn" : "ok", detail: `${age} old (${when})${failed}` };
}

/** Logs in over direct TLS (a trusted certificate only), binds, and asks the domain. */
async function askBackupStatus(
    options: CheckOptions,
    host: string,
    port: number,
    [jid, password]: [string, string],
): Promise<BackupStatus | string> {
    const { model } = options;
    const timeoutMs = options.timeoutMs ?? 5000;
    const socket = await tlsSession({
        host,
        port,
        servername: model.domain,
        alpn: ["xmpp-client"],
        extraCaCertificates: options.extraCaCertificates ?? [],
        timeoutMs,
    });
    try {
        if (!socket.authorized) return `not asked: the certificate on ${port} is not trusted`;
        const reader = new StreamReader(socket);
        socket.write(streamHeader(model.domain));
        await reader.until(/<\/stream:features>/, timeoutMs);
        const localpart = jid.slice(0, jid.lastIndexOf("@"));
        const token = Buffer.from(`\0${localpart}\0${password}`, "utf8").toString("base64");
        socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${token}</auth>`);
        const outcome = await reader.until(/<(success|failure)[\s\S]*?(\/>|<\/\1>)/, timeoutMs);
        if (!/<success/.test(outcome)) return `not asked: the server refused ${jid}`;
        socket.write(streamHeader(model.domain));
        await reader.until(/<\/stream:features>/, timeoutMs);
        socket.write("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
        await reader.until(/<iq[^>]*id=['"]bind['"][\s\S]*?<\/iq>/, timeoutMs);
        socket.write(`<iq type='get' id='backup' to='${model.domain}'><backup xmlns='${NAMESPACE}'/></iq>`);
        const answer = await reader.until(/<iq[^>]*id=['"]backup['"][\s\S]*?(<\/iq>|\/>)/, timeoutMs);
        socket.write("</stream:stream>");
        return parseBackupStatus(answer);
    } finally {
        socket.destroy();
    }
}

function parseBackupStatus(answer: string): BackupStatus {
    const element = /<backup\b([^>]*?)\/?>/.exec(answer);
    if (!element) throw new Error("the server does not answer about backups (an older family module?)");
    const attribute = (name: string) => new RegExp(`\\b${name}=['"]([^'"]*)['"]`).exec(element[1])?.[1];
    const state = attribute("state") as BackupStatus["state"];
    const success = attribute("success");
    const error = /<error>([\s\S]*?)<\/error>/.exec(answer)?.[1];
    return {
        state,
        ...(success ? { success: Number(success) } : {}),
        ...(error ? { error: unescapeXml(error) } : {}),
    };
}

function unescapeXml(text: string): string {
    return text
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&");
}
