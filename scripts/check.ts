import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CheckPorts, renderCheckReport } from "../check/report";
import { PRODUCTION_PORTS, runCheck } from "../check/run-check";
import { loadStackConfigOrExit } from "./load-stack-config";

/**
 * `npm run check -- --stack-config Pulumi.<stack>.yaml (--outputs <file> | --ipv4 A --ipv6 AAAA)
 * [--host H] [--resolver ADDRESS[:PORT]] [--credentials <file>|-] [--ca-file PEM] [--ports k=v,...]
 * [--json]`: the deployed family server checked from outside. `--outputs` takes what
 * `pulumi stack output --json` prints; `--credentials` a `{ "jid": "password" }` file (or `-` for
 * stdin), as `pulumi stack output --show-secrets --json passwords` prints it: never on the command
 * line. Exit codes: 0 all good (warnings allowed), 1 something is wrong, 2 wrong use or bad config.
 */
const USAGE =
    "usage: npm run check -- --stack-config Pulumi.<stack>.yaml (--outputs <file> | --ipv4 A --ipv6 AAAA) " +
    "[--host H] [--resolver ADDRESS[:PORT]] [--credentials <file>|-] [--ca-file PEM] " +
    "[--ports c2s=5222,...] [--json]";

function fail(message: string): never {
    console.error(message);
    process.exit(2);
}

const { values } = parseArgs({
    options: {
        "stack-config": { type: "string" },
        outputs: { type: "string" },
        ipv4: { type: "string" },
        ipv6: { type: "string" },
        host: { type: "string" },
        resolver: { type: "string" },
        credentials: { type: "string" },
        "ca-file": { type: "string" },
        ports: { type: "string" },
        json: { type: "boolean", default: false },
    },
});
if (!values["stack-config"]) fail(USAGE);
const model = loadStackConfigOrExit(values["stack-config"]);

function readText(file: string, what: string): string {
    try {
        return readFileSync(file === "-" ? 0 : file, "utf8");
    } catch {
        fail(`Cannot read ${what} from ${file === "-" ? "stdin" : file}.`);
    }
}

function readJson(file: string, what: string): Record<string, unknown> {
    try {
        const value: unknown = JSON.parse(readText(file, what));
        if (value !== null && typeof value === "object" && !Array.isArray(value))
            return value as Record<string, unknown>;
    } catch {
        // reported below
    }
    fail(`${what} (${file}) is not a JSON object.`);
}

const outputs = values.outputs ? readJson(values.outputs, "the stack outputs") : {};
const ipv4 = values.ipv4 ?? (typeof outputs.ipv4 === "string" ? outputs.ipv4 : undefined);
const ipv6 = values.ipv6 ?? (typeof outputs.ipv6 === "string" ? outputs.ipv6 : undefined);
if (!ipv4 || !ipv6) fail(`The deployed addresses are needed: --outputs, or --ipv4 and --ipv6.\n${USAGE}`);

const credentials = values.credentials
    ? Object.fromEntries(
          Object.entries(readJson(values.credentials, "the credentials")).filter(
              (entry): entry is [string, string] => typeof entry[1] === "string",
          ),
      )
    : undefined;

function parsePorts(text: string): Partial<CheckPorts> {
    const ports: Record<string, number> = {};
    for (const pair of text.split(",")) {
        const [key, value] = pair.split("=");
        if (!(key in PRODUCTION_PORTS) || !/^\d+$/.test(value ?? ""))
            fail(`--ports ${pair}: expected one of ${Object.keys(PRODUCTION_PORTS).join(", ")} = a number`);
        ports[key] = Number(value);
    }
    return ports;
}

runCheck({
    model,
    addresses: { ipv4, ipv6 },
    host: values.host,
    resolver: values.resolver,
    credentials,
    ports: values.ports ? parsePorts(values.ports) : undefined,
    extraCaCertificates: values["ca-file"] ? [readText(values["ca-file"], "the CA certificate")] : undefined,
}).then(
    (report) => {
        process.stdout.write(
            values.json ? `${JSON.stringify(report, null, 2)}\n` : renderCheckReport(report),
        );
        process.exit(report.ok ? 0 : 1);
    },
    (error: Error) => {
        console.error(`The check could not run: ${error.message}`);
        process.exit(1);
    },
);
