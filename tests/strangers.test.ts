/**
 * What the family's server gives away, on a real Prosody 13 from the rendered config, probed with a
 * real XMPP client and real HTTPS requests: nothing a stranger needs (no software version, no
 * Prosody page, security headers on every HTTPS answer), no way for an admin's app to make or
 * remove accounts behind the config's back, and no more shared files than the volume can hold.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { Element, xml } from "@xmpp/client";
import { uploadHost } from "../model/family";
import { LocalServer, startLocalServer } from "../scripts/local-server";
import { familyModel } from "./support/families";
import { missingTools, PROSODY } from "./support/tools";
import { login, Session } from "./support/xmpp";

const FAMILY = familyModel({
    domain: "strangers.test",
    members: [
        { username: "anna", name: "Anna", admin: true },
        { username: "bo", name: "Bo" },
    ],
    calls: false,
});
const DOMAIN = FAMILY.domain;
const UPLOAD_HOST = uploadHost(FAMILY);
const COMMANDS = "http://jabber.org/protocol/commands";

/** What mod_admin_adhoc offers an admin to change accounts with (XEP-0133 and Prosody's own). */
const ACCOUNT_COMMANDS = [
    "http://jabber.org/protocol/admin#add-user",
    "http://jabber.org/protocol/admin#delete-user",
    "http://jabber.org/protocol/admin#change-user-password",
    "http://jabber.org/protocol/admin#disable-user",
    "http://jabber.org/protocol/admin#reenable-user",
    "http://prosody.im/protocol/modules#load",
    "http://prosody.im/protocol/modules#global-load",
];

interface HttpsAnswer {
    readonly status: number;
    readonly headers: Record<string, string | string[] | undefined>;
    readonly body: string;
}

/** A GET to the try-out's HTTPS port, for `hostName` (SNI and Host header) and `path`. */
function httpsGet(server: LocalServer, hostName: string, path: string): Promise<HttpsAnswer> {
    return new Promise((resolve, reject) => {
        const outgoing = request(
            {
                host: "127.0.0.1",
                port: server.listeners.httpsPort,
                path,
                servername: hostName,
                headers: { host: hostName },
            },
            (response) => {
                let body = "";
                response.on("data", (chunk: Buffer) => {
                    body += chunk.toString();
                });
                response.on("end", () =>
                    resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
                );
            },
        );
        outgoing.on("error", reject);
        outgoing.end();
    });
}

/** The server's answer to an IQ, or the error condition it answered with. */
async function answerTo(session: Session, iq: Element): Promise<Element | string> {
    try {
        return await session.xmpp.iqCaller.request(iq);
    } catch (error) {
        return (error as { condition?: string }).condition ?? String(error);
    }
}

function prosodyShell(server: LocalServer, lua: string): string {
    const run = spawnSync("prosodyctl", ["--config", server.paths.prosodyConfig, "shell", lua], {
        encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    return run.stdout;
}

/**
 * Lua for Prosody's admin shell: mod_http_file_share believes the shared files take `bytes`
 * (its stored total, read when the module loads), as if the family had shared that much.
 */
function sharedFilesUsageLua(bytes: number): string {
    return (
        '> local storage = require "prosody.core.storagemanager"; ' +
        `storage.open("${UPLOAD_HOST}", "upload_stats", "map"):set(nil, "total", ${bytes}); ` +
        `require "prosody.core.modulemanager".reload("${UPLOAD_HOST}", "http_file_share")`
    );
}

describe("what the server gives away", { skip: missingTools([PROSODY]) }, () => {
    let server: LocalServer;
    let stateDir: string;
    let anna: Session;

    before(async () => {
        stateDir = mkdtempSync(join(tmpdir(), "family-xmpp-strangers-"));
        server = await startLocalServer({
            model: FAMILY,
            stateDir,
            // Below 32768, where Linux starts the local ports of outgoing connections.
            portOffset: 12000 + (process.pid % 1500),
        });
        setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
        anna = await login(server, `anna@${DOMAIN}`);
    });

    after(async () => {
        await anna?.stop();
        await server?.stop();
        rmSync(stateDir, { recursive: true, force: true });
    });

    describe("an admin's app", () => {
        it("is offered no command that makes, removes or changes accounts, or loads modules", async () => {
            const answer = await answerTo(
                anna,
                xml(
                    "iq",
                    { type: "get", to: DOMAIN },
                    xml("query", { xmlns: "http://jabber.org/protocol/disco#items", node: COMMANDS }),
                ),
            );
            const offered =
                typeof answer === "string"
                    ? []
                    : (answer.getChild("query")?.getChildren("item") ?? []).map((item) => item.attrs.node);
            assert.deepEqual(
                offered.filter((node) => ACCOUNT_COMMANDS.includes(node ?? "")),
                [],
            );
        });

        it("cannot run Add User even when it asks for it by name, and no account appears", async () => {
            const answer = await answerTo(
                anna,
                xml(
                    "iq",
                    { type: "set", to: DOMAIN },
                    xml(
                        "command",
                        {
                            xmlns: COMMANDS,
                            node: "http://jabber.org/protocol/admin#add-user",
                            action: "complete",
                        },
                        xml(
                            "x",
                            { xmlns: "jabber:x:data", type: "submit" },
                            ...[
                                ["FORM_TYPE", "http://jabber.org/protocol/admin"],
                                ["accountjid", `mallory@${DOMAIN}`],
                                ["password", "Secret-123"],
                                ["password-verify", "Secret-123"],
                            ].map(([name, value]) => xml("field", { var: name }, xml("value", {}, value))),
                        ),
                    ),
                ),
            );
            assert.equal(typeof answer, "string", `the server ran the command: ${answer.toString()}`);
            const lookup =
                `> local um = require "prosody.core.usermanager"; ` +
                `return um.user_exists("mallory", "${DOMAIN}") and "account=exists" or "account=absent"`;
            assert.match(prosodyShell(server, lookup), /account=absent/);
        });
    });

    describe("a stranger", () => {
        it("learns no software version (jabber:iq:version)", async () => {
            const answer = await answerTo(
                anna,
                xml("iq", { type: "get", to: DOMAIN }, xml("query", { xmlns: "jabber:iq:version" })),
            );
            assert.equal(answer, "service-unavailable");
        });

        it(
            "sees the family's domain, not the software, " + "as the server's name in service discovery",
            async () => {
                const answer = await answerTo(
                    anna,
                    xml(
                        "iq",
                        { type: "get", to: DOMAIN },
                        xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
                    ),
                );
                assert.notEqual(typeof answer, "string");
                const identity = (answer as Element).getChild("query")?.getChild("identity");
                assert.equal(identity?.attrs.name, DOMAIN);
            },
        );

        for (const [hostName, path] of [
            [UPLOAD_HOST, "/"],
            [UPLOAD_HOST, "/file_share/"],
            [UPLOAD_HOST, "/no/such/file"],
            [FAMILY.hostname, "/"],
        ]) {
            it(`gets a bare 404 from https://${hostName}${path}, with HSTS and headers`, async () => {
                const answer = await httpsGet(server, hostName, path);
                assert.equal(answer.status, 404);
                assert.equal(answer.body, "");
                assert.doesNotMatch(JSON.stringify(answer.headers), /prosody/i);
                assert.match(String(answer.headers["strict-transport-security"]), /^max-age=(\d{8,})/);
                assert.equal(answer.headers["x-content-type-options"], "nosniff");
                assert.match(String(answer.headers["content-security-policy"]), /default-src 'none'/);
                assert.equal(answer.headers["x-frame-options"], "DENY");
                assert.equal(answer.headers["referrer-policy"], "no-referrer");
            });
        }
    });

    describe("shared files", () => {
        const slotRequest = (size: number) =>
            xml(
                "iq",
                { type: "get", to: UPLOAD_HOST },
                xml("request", {
                    xmlns: "urn:xmpp:http:upload:0",
                    filename: "photo.jpg",
                    size: String(size),
                    "content-type": "image/jpeg",
                }),
            );

        it(
            "stop at half of the volume in all: " + "a file that would go past it gets no upload slot",
            async () => {
                const totalBytes = FAMILY.uploads.totalQuotaMb * 1024 * 1024;
                assert.equal(totalBytes, 5000 * 1024 * 1024, "half of the default 10 GB volume");
                // As if the family had shared files until 1000 bytes short of the cap.
                const setUsage = (bytes: number) => prosodyShell(server, sharedFilesUsageLua(bytes));
                setUsage(totalBytes - 1000);
                try {
                    assert.equal(await answerTo(anna, slotRequest(2000)), "resource-constraint");
                    assert.notEqual(typeof (await answerTo(anna, slotRequest(500))), "string");
                } finally {
                    setUsage(0);
                }
            },
        );
    });
});
