import { FamilyModel } from "../model/family";
import { SERVER_PORTS } from "../model/known-values";

/** The ports the check expects the server to answer on: production's, or a test server's. */
export type CheckPorts = { readonly [service in keyof typeof SERVER_PORTS]: number };

export interface CheckOptions {
    readonly model: FamilyModel;
    /** The deployed addresses (`pulumi stack output ipv4`, `ipv6`): what the A and AAAA records must say. */
    readonly addresses: { readonly ipv4: string; readonly ipv6: string };
    /** Where the ports, the certificate and the login are tried; the IPv4 address unless given. */
    readonly host?: string;
    /** Production's ports unless given. */
    readonly ports?: Partial<CheckPorts>;
    /** The DNS resolver to ask, `address` or `address:port`; the system's unless given. */
    readonly resolver?: string;
    /** `{ jid: password }`: the check logs in with the first account that works. */
    readonly credentials?: Readonly<Record<string, string>>;
    /** Certificate authorities to trust besides the system's (PEM), e.g. Let's Encrypt's staging. */
    readonly extraCaCertificates?: readonly string[];
    /** A certificate expiring sooner than this is a warning. */
    readonly warnDays?: number;
    readonly timeoutMs?: number;
    readonly now?: Date;
}

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/** One thing the check looked at, and what it found. */
export interface CheckResult {
    readonly name: string;
    readonly status: CheckStatus;
    readonly detail: string;
}

export interface CheckReport {
    /** Nothing failed (warnings and skips allowed). */
    readonly ok: boolean;
    readonly results: readonly CheckResult[];
}

const LABELS: Readonly<Record<CheckStatus, string>> = {
    ok: "ok  ",
    warn: "WARN",
    fail: "FAIL",
    skip: "skip",
};

/** The report for a terminal: one line a result, problems first, then a summary. */
export function renderCheckReport(report: CheckReport): string {
    const order: CheckStatus[] = ["fail", "warn", "skip", "ok"];
    const sorted = [...report.results].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
    const count = (status: CheckStatus) => report.results.filter((r) => r.status === status).length;
    return [
        ...sorted.map((result) => `${LABELS[result.status]}  ${result.name}: ${result.detail}`),
        "",
        report.ok
            ? `All good: ${count("ok")} checks passed, ${count("warn")} warnings, ${count("skip")} skipped.`
            : `${count("fail")} problems, ${count("warn")} warnings, ${count("ok")} checks passed.`,
        "",
    ].join("\n");
}
