import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { request } from "node:https";
import { connect } from "node:tls";
import { readFileSync } from "node:fs";
import { client, xml } from "@xmpp/client";
import { chromium } from "playwright-core";
import { CHROMIUM_FLAGS } from "../../scripts/chromium";
import { loginAt, XmppEndpoint } from "./xmpp";

/**
 * A welcome link as a member's devices use it: a browser opens the page (and shows its QR code),
 * an app's QR scanner asks the link for the `xmpp:` URI behind it, and the app chooses the
 * member's password with the URI's token (XEP-0401, XEP-0445), in-band, before logging in.
 */

/** Where a welcome link's host name points (no DNS here), and the CA its certificate chains to. */
export interface WelcomeServer {
    /** The address the link's host name stands for. */
    readonly address: string;
    /** PEM file of the CA that signed the server's certificate. */
    readonly caFile: string;
}

/** What a link stands for: an `xmpp:` URI with the account and the token that may set its password. */
export interface WelcomeUri {
    readonly uri: string;
    readonly jid: string;
    readonly token: string;
}

/** Tools these helpers need besides Node: the browser and the QR decoder. */
export const WELCOME_TOOLS = [
    ["chromium", "chromium"],
    ["zbarimg", "zbar-tools"],
] as const;

function requestAt(
    server: WelcomeServer,
    url: string,
    method: string,
    body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
        const outgoing = request(
            {
                host: server.address,
                port: Number(target.port || 443),
                path: target.pathname + target.search,
                method,
                servername: target.hostname,
                ca: readFileSync(server.caFile),
                headers: {
                    host: target.host,
                    ...(body === undefined
                        ? {}
                        : {
                              "content-type": "application/x-www-form-urlencoded",
                              "content-length": String(Buffer.byteLength(body)),
                          }),
                },
            },
            (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () =>
                    resolve({
                        status: response.statusCode ?? 0,
                        headers: response.headers,
                        body: Buffer.concat(chunks).toString("utf8"),
                    }),
                );
            },
        );
        outgoing.on("error", reject);
        outgoing.end(body);
    });
}

/**
 * What an app's QR scanner does with an https link (as Conversations does): a HEAD request, and the
 * `xmpp:` URI from the `Link: <…>; rel="alternate"` header.
 */
export async function welcomeUriOf(server: WelcomeServer, url: string): Promise<WelcomeUri> {
    const response = await requestAt(server, url, "HEAD");
    assert.equal(response.status, 200, `HEAD ${url}`);
    // HTTP headers arrive as Latin-1; Prosody writes the URI's UTF-8 bytes (an address like åsa@…).
    const header = Buffer.from(String(response.headers.link ?? ""), "latin1").toString("utf8");
    const uri = /<(xmpp:[^>]+)>;\s*rel="alternate"/.exec(header)?.[1];
    assert.ok(uri, `no xmpp: URI in the Link header of ${url}: ${header}`);
    const match = /^xmpp:([^?]+)\?register;preauth=([^;]+)$/.exec(uri);
    assert.ok(match, `not a pre-authenticated registration URI: ${uri}`);
    return { uri, jid: decodeURIComponent(match[1]), token: match[2] };
}

/** What the page at a link says, as a browser shows it: a GET, following no redirect. */
export async function pageAt(server: WelcomeServer, url: string): Promise<{ status: number; body: string }> {
    return requestAt(server, url, "GET");
}

/** Submits the password form of the page at `url`, as a browser would. */
export async function submitPasswordForm(
    server: WelcomeServer,
    url: string,
    fields: Readonly<Record<string, string>>,
): Promise<{ status: number; body: string }> {
    return requestAt(server, url, "POST", new URLSearchParams(fields).toString());
}

/** Thrown into @xmpp/client once the password is chosen, to end that stream without logging in. */
class PasswordChosen extends Error {}

/**
 * An app choosing a member's password with a link's token, as Prosody's mod_invites_register
 * expects it: on the encrypted but not yet authenticated stream, the token (XEP-0401's
 * `<preauth xmlns="urn:xmpp:pars:0"/>`), then in-band registration (XEP-0077) of the account with
 * the new password. Resolves once the server accepted both; rejects with the server's error.
 */
export function choosePasswordInApp(
    endpoint: XmppEndpoint,
    welcome: WelcomeUri,
    password: string,
): Promise<void> {
    return registerInApp(endpoint, welcome.jid, password, welcome.token);
}

/** In-band registration (XEP-0077) as an app sends it, after the link's token when it has one. */
export async function registerInApp(
    endpoint: XmppEndpoint,
    jid: string,
    password: string,
    token?: string,
): Promise<void> {
    const [username, domain] = jid.split("@");
    const xmpp = client({
        service: `xmpp://${endpoint.host}:${endpoint.port}`,
        domain,
        credentials: async () => {
            if (token !== undefined) {
                await xmpp.iqCaller.request(
                    xml("iq", { type: "set" }, xml("preauth", { xmlns: "urn:xmpp:pars:0", token })),
                );
            }
            await xmpp.iqCaller.request(
                xml(
                    "iq",
                    { type: "set" },
                    xml(
                        "query",
                        { xmlns: "jabber:iq:register" },
                        xml("username", {}, username),
                        xml("password", {}, password),
                    ),
                ),
            );
            throw new PasswordChosen();
        },
    });
    xmpp.reconnect.stop();
    xmpp.on("error", () => undefined);
    try {
        await xmpp.start();
        assert.fail("the server let the app in without authenticating");
    } catch (error) {
        if (!(error instanceof PasswordChosen)) throw error;
    } finally {
        await xmpp.stop().catch(() => undefined);
    }
}

/**
 * The SHA-256 of the public key the server at `url` presents, after Node verified its chain to
 * `caFile` for the URL's host name: Chromium is then told to trust exactly that key.
 */
async function verifiedKeyHash(server: WelcomeServer, url: string): Promise<string> {
    const target = new URL(url);
    const socket = connect({
        host: server.address,
        port: Number(target.port || 443),
        servername: target.hostname,
        ca: readFileSync(server.caFile),
    });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    const certificate = new X509Certificate(socket.getPeerCertificate().raw);
    socket.destroy();
    const spki = certificate.publicKey.export({ type: "spki", format: "der" });
    return createHash("sha256").update(spki).digest("base64");
}

/**
 * Opens a welcome link in Debian's headless Chromium as a desktop browser, opens the page's "scan
 * with mobile device" code and saves a screenshot; returns what the page shows as text.
 */
export async function screenshotWelcomePage(
    server: WelcomeServer,
    url: string,
    screenshotFile: string,
): Promise<string> {
    const keyHash = await verifiedKeyHash(server, url);
    const browser = await chromium.launch({
        executablePath: "/usr/bin/chromium",
        args: [
            ...CHROMIUM_FLAGS.filter((flag) => flag !== "--headless"),
            `--host-resolver-rules=MAP ${new URL(url).hostname} ${server.address}`,
            `--ignore-certificate-errors-spki-list=${keyHash}`,
        ],
    });
    try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
        const response = await page.goto(url);
        assert.equal(response?.status(), 200, `Chromium could not open ${url}`);
        await page.click("#qr-modal-show");
        await page.waitForSelector("#qr-modal.show #qr-invite-page img", { state: "visible" });
        // Bootstrap fades the dialog in.
        await page.waitForTimeout(500);
        await page.screenshot({ path: screenshotFile });
        return await page.innerText("body");
    } finally {
        await browser.close();
    }
}

/** The text of every QR code in a picture, as Debian's zbarimg reads it. */
export function decodeQrCodes(pictureFile: string): string[] {
    const result = spawnSync("zbarimg", ["--quiet", "--raw", pictureFile], { encoding: "utf8" });
    assert.equal(result.status, 0, `zbarimg found no QR code in ${pictureFile}: ${result.stderr}`);
    return result.stdout.split("\n").filter((line) => line !== "");
}

export interface WelcomeLinkCheck extends WelcomeServer {
    /** The member's welcome link, as `pulumi stack output welcomeLinks` gives it. */
    readonly url: string;
    /** The member's address: the link must be for this account. */
    readonly jid: string;
    /** Where apps connect (STARTTLS, the certificate verified for the JID's domain). */
    readonly xmpp: XmppEndpoint;
    /** Where to keep the screenshot of the page. */
    readonly screenshotFile: string;
}

/**
 * A member's first minutes, proven end to end: the link's page opens in Chromium and its QR code
 * (read from the screenshot by zbarimg) is the link; an app gets the account and token from the
 * link, chooses a new password with it and logs in with that password; the link then works no
 * more, neither in an app nor on its page. Returns the password chosen.
 */
export async function checkWelcomeLink(check: WelcomeLinkCheck): Promise<string> {
    const text = await screenshotWelcomePage(check, check.url, check.screenshotFile);
    assert.match(text, /Conversations|Monal|Siskin|Gajim|Dino/, "the page lists apps to install");
    assert.deepEqual(decodeQrCodes(check.screenshotFile), [check.url]);

    const welcome = await welcomeUriOf(check, check.url);
    assert.equal(welcome.jid, check.jid);
    const password = `chosen-${randomBytes(6).toString("hex")}`;
    await choosePasswordInApp(check.xmpp, welcome, password);
    const session = await loginAt(check.xmpp, check.jid, password, "welcomed");
    await session.stop();

    await assert.rejects(choosePasswordInApp(check.xmpp, welcome, "another-password"), /forbidden/);
    assert.match((await pageAt(check, check.url)).body, /Invite expired/);
    return password;
}
