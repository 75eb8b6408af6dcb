/**
 * Welcome links on a real Prosody booted from the rendered files: what a member's browser, their
 * app and the family's printer do with a link, and everything a link must never do.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { renderWelcomeSheets } from "../render/welcome-sheet";
import { printToPdf } from "../scripts/chromium";
import { LocalServer, startLocalServer } from "../scripts/local-server";
import { familyModel } from "./support/families";
import { hasTool, missingTools, PROSODY } from "./support/tools";
import {
    checkWelcomeLink,
    choosePasswordInApp,
    decodeQrCodes,
    pageAt,
    registerInApp,
    submitPasswordForm,
    WELCOME_TOOLS,
    WelcomeServer,
    welcomeUriOf,
} from "./support/welcome";
import { login } from "./support/xmpp";

const MEMBERS = [
    { username: "anna", name: "Anna", admin: true },
    { username: "bo", name: "Bo" },
    { username: "åsa", name: "Mormor Åsa" },
    { username: "dora", name: "Dora" },
    { username: "carl", name: "Carl" },
];
const FAMILY_CONFIG = { domain: "family.test", members: MEMBERS, language: "nb", welcomeLinkDays: 3 };
const FAMILY = familyModel(FAMILY_CONFIG);
const jid = (username: string) => `${username}@${FAMILY.domain}`;

let server: LocalServer;
let stateDir: string;
let web: WelcomeServer;
const app = () => ({ host: "127.0.0.1", port: server.listeners.c2sPort });

/** Lua run in the server's admin shell, as the provisioning scripts run theirs; what it printed. */
function adminShell(lua: string): string {
    const result = spawnSync("sh", ["-c", `${server.host.commands.prosodyctl} shell "$1"`, "sh", lua], {
        encoding: "utf8",
    });
    return result.stdout + result.stderr;
}

/** A link of the member's that ran out a second ago: mod_invites' own reset link with a 1 s life. */
async function expiredLink(username: string): Promise<string> {
    const answer = adminShell(
        `> return prosody.hosts["${FAMILY.domain}"].modules.invites` +
            `.create_account_reset("${username}", 1).landing_page`,
    );
    const link = /https:\S+/.exec(answer)?.[0];
    assert.ok(link, answer);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    return link;
}

describe("welcome links", { skip: missingTools([PROSODY]) }, () => {
    before(async () => {
        stateDir = mkdtempSync(join(tmpdir(), "family-xmpp-welcome-"));
        server = await startLocalServer({
            model: FAMILY,
            stateDir,
            // Every port below 32768, where Linux starts handing out ports for outgoing connections.
            portOffset: 18000 + (process.pid % 2000),
        });
        setDefaultCACertificates([...getCACertificates("default"), server.caCertificate]);
        web = { address: "127.0.0.1", caFile: join(stateDir, "ca.crt") };
    });

    after(async () => {
        await server?.stop();
        rmSync(stateDir, { recursive: true, force: true });
    });

    it("gives every member a link on the server's own name, for their own account", async () => {
        for (const { username } of MEMBERS) {
            const link = server.welcomeLinks[jid(username)];
            assert.match(
                link,
                new RegExp(`^https://xmpp\\.family\\.test:${server.listeners.httpsPort}/welcome\\?`),
            );
            const welcome = await welcomeUriOf(web, link);
            assert.equal(welcome.jid, jid(username));
            assert.equal(welcome.uri, `xmpp:${jid(username)}?register;preauth=${welcome.token}`);
        }
    });

    it(
        "proves a member's first minutes: the page in Chromium shows the link as a QR code, " +
            "an app chooses the password with it and logs in, and the link works no more",
        async (t) => {
            if (!WELCOME_TOOLS.every(([command, pkg]) => hasTool(t, command, pkg))) return;
            const screenshotFile = join(stateDir, "welcome-page.png");
            const password = await checkWelcomeLink({
                ...web,
                url: server.welcomeLinks[jid("åsa")],
                jid: jid("åsa"),
                xmpp: app(),
                screenshotFile,
            });
            const session = await login(server, jid("åsa"), password, "again");
            await session.stop();
            const generated = server.credentials[jid("åsa")];
            await assert.rejects(login(server, jid("åsa"), generated), /not-authorized/);
        },
    );

    it("lets a member choose the password on a web page instead, once, in the family's tongue", async () => {
        const link = server.newWelcomeLink("bo");
        const { token } = await welcomeUriOf(web, link);
        // Where the landing page sends an app without XEP-0401 support.
        const page = new URL(`/register?t=${token}&c=gajim`, link).href;
        const form = await pageAt(web, page);
        assert.equal(form.status, 200);
        assert.match(form.body, /<h1>Velg passordet ditt<\/h1>/);
        assert.match(form.body, /Hei Bo! Adressen din er <strong>bo@family\.test<\/strong>/);

        const mismatch = await submitPasswordForm(web, page, {
            token,
            password: "one-password",
            again: "another",
        });
        assert.match(mismatch.body, /De to passordene er ikke like\./);
        const short = await submitPasswordForm(web, page, { token, password: "short", again: "short" });
        assert.match(short.body, /Et passord må ha minst 8 tegn\./);
        await assert.rejects(login(server, jid("bo"), "one-password"), /not-authorized/);

        const done = await submitPasswordForm(web, page, {
            token,
            password: "Bo's own 2026",
            again: "Bo's own 2026",
        });
        assert.match(done.body, /Passordet er lagret\./);
        const session = await login(server, jid("bo"), "Bo's own 2026");
        await session.stop();

        const used = (await pageAt(web, page)).body;
        assert.match(used, /Denne lenken er allerede brukt, eller den er utløpt\./);
        const again = await submitPasswordForm(web, page, {
            token,
            password: "stolen-2026",
            again: "stolen-2026",
        });
        assert.match(again.body, /allerede brukt/);
        await assert.rejects(
            choosePasswordInApp(app(), await welcomeUriOf(web, server.newWelcomeLink("bo")), "x"),
        );
    });

    it("refuses a password shorter than 8 characters in an app too", async () => {
        const welcome = await welcomeUriOf(web, server.welcomeLinks[jid("dora")]);
        await assert.rejects(choosePasswordInApp(app(), welcome, "short"), /not-allowed/);
        await assert.rejects(login(server, jid("dora"), "short"), /not-authorized/);
    });

    it("refuses a made-up token, in an app and on the web", async () => {
        const madeUp = { uri: "", jid: jid("dora"), token: "MadeUpToken1234567890abc" };
        await assert.rejects(choosePasswordInApp(app(), madeUp, "Mallory's 2026"), /forbidden/);
        const link = new URL(`/welcome?${madeUp.token}`, server.welcomeLinks[jid("dora")]).href;
        assert.match((await pageAt(web, link)).body, /Invite expired/);
        const page = new URL(`/register?t=${madeUp.token}`, link).href;
        assert.match((await pageAt(web, page)).body, /allerede brukt, eller den er utløpt/);
    });

    it("refuses an expired link, in an app and on the web", async () => {
        const link = await expiredLink("dora");
        assert.match((await pageAt(web, link)).body, /Invite expired/);
        const token = new URL(link).search.slice(1);
        await assert.rejects(
            choosePasswordInApp(app(), { uri: "", jid: jid("dora"), token }, "Too late 2026"),
            /forbidden/,
        );
        const page = new URL(`/register?t=${token}`, link).href;
        assert.match(
            (
                await submitPasswordForm(web, page, {
                    token,
                    password: "Too late 2026",
                    again: "Too late 2026",
                })
            ).body,
            /utløpt/,
        );
        await assert.rejects(login(server, jid("dora"), "Too late 2026"), /not-authorized/);
    });

    it("makes links valid for the family's welcomeLinkDays", () => {
        const token = new URL(server.newWelcomeLink("carl")).search.slice(1);
        const answer = adminShell(
            `> local invites = prosody.hosts["${FAMILY.domain}"].modules.invites;` +
                ` local i = invites.get_account_invite_info("${token}");` +
                ` return "lasts=" .. (i.expires - i.created_at)`,
        );
        assert.match(answer, new RegExp(`lasts=${3 * 86400}\\b`));
    });

    it("never creates an account, nor reaches another member's, with a link", async () => {
        const welcome = await welcomeUriOf(web, server.newWelcomeLink("dora"));
        for (const username of ["mallory", "anna"]) {
            await assert.rejects(
                choosePasswordInApp(app(), { ...welcome, jid: jid(username) }, "Taken over 2026"),
                /not-allowed/,
            );
            await assert.rejects(login(server, jid(username), "Taken over 2026"), /not-authorized/);
        }
        const anna = await login(server, jid("anna"));
        await anna.stop();
        // The link itself still works for Dora, its member.
        await choosePasswordInApp(app(), welcome, "Dora's own 2026");
        const dora = await login(server, jid("dora"), "Dora's own 2026");
        await dora.stop();
    });

    it("refuses in-band registration without a link, for a new account or a member's", async () => {
        for (const username of ["mallory", "anna"]) {
            await assert.rejects(
                registerInApp(app(), jid(username), "No link 2026"),
                /Registration on this server is through invitation only/,
            );
            await assert.rejects(login(server, jid(username), "No link 2026"), /not-authorized/);
        }
    });

    it("ends a member's older link when they get a fresh one", async () => {
        const older = await welcomeUriOf(web, server.newWelcomeLink("carl"));
        const fresh = await welcomeUriOf(web, server.newWelcomeLink("carl"));
        await assert.rejects(choosePasswordInApp(app(), older, "Carl's old 2026"), /forbidden/);
        await choosePasswordInApp(app(), fresh, "Carl's new 2026");
        const carl = await login(server, jid("carl"), "Carl's new 2026");
        await carl.stop();
    });

    it("lets no one use the link of a member taken out of the config", async () => {
        const welcome = await welcomeUriOf(web, server.newWelcomeLink("carl"));
        server.applyFamilyChange(familyModel({ ...FAMILY_CONFIG, members: MEMBERS.slice(0, -1) }));
        await assert.rejects(choosePasswordInApp(app(), welcome, "Carl is back 2026"), /not-allowed/);
        const page = new URL(`/register?t=${welcome.token}`, server.welcomeLinks[jid("anna")]).href;
        assert.match((await pageAt(web, page)).body, /utløpt/);
        assert.throws(() => server.newWelcomeLink("carl"), /not a member of the family/);
    });
});

describe("welcome sheets", () => {
    it("print one page per member, with the link as a QR code a phone reads back", (t) => {
        for (const [command, pkg] of [...WELCOME_TOOLS, ["pdftoppm", "poppler-utils"] as const]) {
            if (!hasTool(t, command, pkg)) return;
        }
        const links = Object.fromEntries(
            MEMBERS.map(({ username }, index) => [
                jid(username),
                `https://xmpp.family.test/welcome?Token${index}Of24Characters`,
            ]),
        );
        const work = mkdtempSync(join(tmpdir(), "family-xmpp-sheets-"));
        try {
            const pdf = join(work, "sheets.pdf");
            printToPdf(renderWelcomeSheets(FAMILY, links), pdf);
            const text = spawnSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" }).stdout;
            const pages = text.split("\f").filter((page) => page.trim() !== "");
            assert.equal(pages.length, MEMBERS.length);
            MEMBERS.forEach(({ username, name }, index) => {
                assert.match(pages[index], new RegExp(`Velkommen, ${name}!`));
                assert.ok(pages[index].includes(jid(username)));
                assert.match(
                    pages[index],
                    /Koden virker én gang, i 3 dager\. Er det for sent, be Anna om en ny\./,
                );
            });
            assert.equal(spawnSync("pdftoppm", ["-r", "110", "-png", pdf, join(work, "page")]).status, 0);
            const pictures = readdirSync(work)
                .filter((file) => file.startsWith("page"))
                .sort();
            assert.deepEqual(
                pictures.map((picture) => decodeQrCodes(join(work, picture))),
                MEMBERS.map(({ username }) => [links[jid(username)]]),
            );
        } finally {
            rmSync(work, { recursive: true, force: true });
        }
    });

    it("speak English when the family does, naming whom to ask", () => {
        const english = familyModel({ ...FAMILY_CONFIG, language: "en" });
        const links = Object.fromEntries(
            MEMBERS.map(({ username }) => [jid(username), `https://x/${username}`]),
        );
        const html = renderWelcomeSheets(english, links);
        assert.match(html, /<h1>Welcome, Mormor Åsa!<\/h1>/);
        assert.match(html, /The code works once, for 3 days\. If it is too late, ask Anna for a new one\./);
    });

    it("refuse to leave a member without a link", () => {
        assert.throws(() => renderWelcomeSheets(FAMILY, {}), /no welcome link for anna@family\.test, bo@/);
    });
});
