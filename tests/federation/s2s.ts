import { spawnSync } from "node:child_process";
import { LocalServer } from "../../scripts/local-server";
import { ProsodyServer } from "./other-servers";

/** One server-to-server connection as a Prosody sees it. */
export interface S2sConnection {
    /** Who opened it: "out" this Prosody, "in" the other server. */
    readonly opened: "in" | "out";
    readonly local: string;
    readonly remote: string;
    /** How the side that opened it proved who it is. */
    readonly mechanism: "certificate" | "dialback";
    /** Whether it carries stanzas both ways (XEP-0288). */
    readonly bidirectional: boolean;
    /** The port of the side that accepted it: 5270 for direct TLS, 5269 for STARTTLS. */
    readonly port: number;
}

/** How stanzas went from one server to another: the connection's TLS, and who proved what. */
export interface Route {
    readonly tls: string;
    readonly authentication: string;
}

/**
 * Every authenticated s2s connection of a running Prosody, from its admin shell. SASL EXTERNAL
 * (`external_auth`) is the certificate; anything else that authenticated a stream is dialback.
 */
const LIST_CONNECTIONS = [
    "> local rows = {};",
    "local function row(opened, s, bidi) if s.type == 's2sin' or s.type == 's2sout' then",
    "rows[#rows + 1] = table.concat({ opened, s.to_host, s.from_host,",
    "s.external_auth == 'succeeded' and 'certificate' or 'dialback', tostring(not not bidi),",
    "tostring(s.conn:serverport()) }, ' ')",
    "end end;",
    "for s in pairs(prosody.incoming_s2s) do row('in', s, s.outgoing) end;",
    "for _, host in pairs(prosody.hosts) do for _, s in pairs(host.s2sout) do",
    "if s.direction == 'outgoing' then row('out', s, s.incoming) end end end;",
    "return 'connections: ' .. table.concat(rows, '; ')",
].join(" ");

export function s2sConnections(server: LocalServer | ProsodyServer): S2sConnection[] {
    const output =
        "shell" in server
            ? server.shell(LIST_CONNECTIONS)
            : spawnSync("sh", ["-c", `${server.host.commands.prosodyctl} shell "$0"`, LIST_CONNECTIONS], {
                  encoding: "utf8",
              }).stdout;
    const list = /connections: (.*)/.exec(output)?.[1];
    if (list === undefined) throw new Error(`Prosody's shell did not list its connections: ${output}`);
    return list
        .split("; ")
        .filter(Boolean)
        .map((line) => {
            const [opened, first, second, mechanism, bidirectional, port] = line.split(" ");
            // An incoming stream goes from the remote host to this one, an outgoing one the other way.
            const [local, remote] = opened === "in" ? [first, second] : [second, first];
            return {
                opened: opened as "in" | "out",
                local,
                remote,
                mechanism: mechanism as "certificate" | "dialback",
                bidirectional: bidirectional === "true",
                port: Number(port),
            };
        });
}

/**
 * How stanzas from `from` reach `to`, as seen by the family server that is one of the two: over
 * which server's connection, with which TLS, and how the sending server proved who it is.
 */
export function routeOf(connections: readonly S2sConnection[], from: string, to: string): Route {
    const tls = (c: S2sConnection) => (c.port === 5270 ? "direct TLS (5270)" : `STARTTLS (${c.port})`);
    const own = connections.find(
        (c) =>
            (c.opened === "out" && c.local === from && c.remote === to) ||
            (c.opened === "in" && c.remote === from && c.local === to),
    );
    if (own) {
        const authentication = own.mechanism === "certificate" ? "certificate (SASL EXTERNAL)" : "dialback";
        return { tls: tls(own), authentication };
    }
    const shared = connections.find(
        (c) =>
            c.bidirectional &&
            ((c.opened === "out" && c.local === to && c.remote === from) ||
                (c.opened === "in" && c.remote === to && c.local === from)),
    );
    if (shared) {
        return {
            tls: `${tls(shared)}, ${to}'s connection (XEP-0288)`,
            authentication: "certificate (as the server of that connection)",
        };
    }
    throw new Error(`${from} reached ${to} over no connection the family's server knows of`);
}
