import { Resolver } from "node:dns/promises";
import { DnsRecord, NO_SERVICE, renderDnsRecords } from "../render/dns";
import { CheckOptions, CheckResult } from "./report";

/** A record's data in one form for what the stack declares and what a resolver answers. */
function declaredValue(record: DnsRecord<string>): string {
    switch (record.type) {
        case "A":
        case "AAAA":
            return record.address;
        case "CNAME":
            return record.target;
        case "MX":
            return `${record.priority} ${record.target}`;
        case "TXT":
            return record.text;
        case "SRV":
            return `${record.priority} ${record.weight} ${record.port} ${record.target}`;
        case "CAA":
            return `${record.flags} ${record.tag} "${record.value}"`;
    }
}

/** What the resolver answers for one name and type, in `declaredValue`'s form; [] for no record. */
async function answered(
    resolver: Resolver,
    name: string,
    type: DnsRecord<string>["type"],
): Promise<string[]> {
    try {
        switch (type) {
            case "A":
                return await resolver.resolve4(name);
            case "AAAA":
                return await resolver.resolve6(name);
            case "CNAME":
                return await resolver.resolveCname(name);
            case "MX":
                return (await resolver.resolveMx(name)).map((mx) => `${mx.priority} ${mx.exchange}`);
            case "TXT":
                return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(""));
            case "SRV":
                return (await resolver.resolveSrv(name)).map(
                    (srv) => `${srv.priority} ${srv.weight} ${srv.port} ${srv.name || NO_SERVICE}`,
                );
            case "CAA":
                return (await resolver.resolveCaa(name)).map((caa) => {
                    const [tag, value] = Object.entries(caa).find(([key]) => key !== "critical") ?? ["", ""];
                    return `${caa.critical} ${tag} "${value}"`;
                });
        }
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENODATA" || code === "ENOTFOUND") return [];
        throw error;
    }
}

/**
 * Each name and type the stack publishes, asked of a resolver and compared with what the stack
 * declares: a wrong record is named with what it should be. Records others keep in the zone for
 * the same name are reported too, since apps would see them.
 */
export async function checkDnsRecords(options: CheckOptions): Promise<CheckResult[]> {
    const resolver = new Resolver({ timeout: options.timeoutMs ?? 5000, tries: 2 });
    if (options.resolver) resolver.setServers([options.resolver]);
    const expected = new Map<string, { name: string; type: DnsRecord<string>["type"]; values: string[] }>();
    for (const record of renderDnsRecords(options.model, options.addresses)) {
        const key = `${record.name} ${record.type}`;
        const entry = expected.get(key) ?? { name: record.name, type: record.type, values: [] };
        entry.values.push(declaredValue(record));
        expected.set(key, entry);
    }
    return Promise.all(
        [...expected.entries()].map(async ([key, { name, type, values }]): Promise<CheckResult> => {
            const check = `DNS ${key}`;
            const want = [...values].sort();
            let got: string[];
            try {
                got = (await answered(resolver, name, type)).sort();
            } catch (error) {
                return {
                    name: check,
                    status: "fail",
                    detail: `the resolver failed: ${(error as Error).message}`,
                };
            }
            if (JSON.stringify(got) === JSON.stringify(want))
                return { name: check, status: "ok", detail: want.join(", ") };
            const answer = got.length > 0 ? `answers ${got.join(", ")}` : "no record";
            return { name: check, status: "fail", detail: `${answer}; should be ${want.join(", ")}` };
        }),
    );
}
