/**
 * README's "Try it on this machine", as a new user runs it: a fresh clone of this repository, the
 * commands exactly as README writes them (read from README.md, so that this test cannot drift from
 * it), with the machine's own Node and npm and the default ports; as root with the clone in root's
 * home, and as an ordinary user with the clone in theirs. Then the family chats: one member logs in
 * with the generated password, another goes from the QR code on their printed welcome sheet to a
 * password of their own, and they exchange a message and a photo.
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, describe, it } from "node:test";
import { xml } from "@xmpp/client";
import { portOpen } from "../../scripts/local-server";
import { httpsAt } from "../support/https";
import { missingTools, PROSODY } from "../support/tools";
import { choosePasswordInApp, decodeQrCodes, WELCOME_TOOLS, welcomeUriOf } from "../support/welcome";
import { loginAt } from "../support/xmpp";

const REPOSITORY = join(__dirname, "..", "..");
/** The ordinary user the test makes (and removes again) when the machine has none of that name. */
const ORDINARY_USER = "family-xmpp-tryout";
/** What a new user's shell has: none of this project's Node or tools. */
const CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The commands of README's "Try it on this machine", exactly as written in its first sh block. */
function readmeTryItCommands(): string {
    const readme = readFileSync(join(REPOSITORY, "README.md"), "utf8");
    const section = /^## Try it on this machine\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? "";
    const commands = /^```sh\n([\s\S]*?)^```$/m.exec(section)?.[1]?.trim();
    assert.ok(commands, 'README has no sh block under "Try it on this machine"');
    return commands;
}

function skipReason(): string | undefined {
    const tools = [
        PROSODY,
        ["git", "git"],
        ["npm", "npm"],
        ["pdftoppm", "poppler-utils"],
        ...WELCOME_TOOLS,
    ] as const;
    return missingTools(
        tools,
        process.getuid?.() === 0
            ? undefined
            : "needs root, to run README's commands as root and as another user",
    );
}

interface TryOut {
    readonly user: string;
    readonly home: string;
}

/** Makes the ordinary user if the machine lacks them; says whether it did. */
function ensureOrdinaryUser(): boolean {
    if (spawnSync("id", [ORDINARY_USER], { stdio: "ignore" }).status === 0) return false;
    const made = spawnSync("useradd", ["--create-home", "--shell", "/bin/sh", ORDINARY_USER], {
        encoding: "utf8",
    });
    assert.equal(made.status, 0, made.stderr);
    return true;
}

function homeOf(user: string): string {
    return spawnSync("sh", ["-c", `getent passwd "$1" | cut -d: -f6`, "sh", user], {
        encoding: "utf8",
    }).stdout.trim();
}

/** README's commands in a fresh clone, as `user`; resolves with the running process and its output. */
async function runReadmeCommands(
    { user, home }: TryOut,
    clone: string,
): Promise<{ child: ChildProcess; output: () => string }> {
    const cloned = spawnSync("git", ["clone", "--quiet", REPOSITORY, clone], { encoding: "utf8" });
    assert.equal(cloned.status, 0, cloned.stderr);
    if (user !== "root") assert.equal(spawnSync("chown", ["-R", `${user}:`, clone]).status, 0);
    const environment = ["env", "-i", `HOME=${home}`, `PATH=${CLEAN_PATH}`, "LANG=C.UTF-8", `USER=${user}`];
    const shell = ["sh", "-c", `cd "$1" && ${readmeTryItCommands()}`, "sh", clone];
    const command =
        user === "root"
            ? [...environment, ...shell]
            : ["runuser", "-u", user, "--", ...environment, ...shell];
    const child = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 300_000;
    // Ready, and the welcome sheets (which a member scans below) printed.
    while (
        !output.includes("Ctrl-C stops the server") ||
        !output.includes("The welcome sheets are written.")
    ) {
        if (child.exitCode !== null || Date.now() > deadline) {
            assert.fail(`README's commands did not bring the server up as ${user}:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { child, output: () => output };
}

/** Ctrl-C in the terminal: the whole foreground group gets SIGINT. */
async function pressCtrlC(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-(child.pid ?? 0), "SIGINT");
    await exited;
}

/**
 * The family chats: Pappa logs in with his generated password; Mamma scans the QR code on her
 * printed welcome sheet, chooses her own password in an app with it and logs in; a message and a
 * photo go from one to the other.
 */
async function familyChats(stateDir: string, output: string): Promise<void> {
    const credentials = JSON.parse(readFileSync(join(stateDir, "credentials.json"), "utf8")) as Record<
        string,
        string
    >;
    const links = JSON.parse(readFileSync(join(stateDir, "welcome-links.json"), "utf8")) as Record<
        string,
        string
    >;
    const [pappa, mamma] = ["pappa@johansson.example", "mamma@johansson.example"];
    assert.ok(output.includes(`${mamma}  ${links[mamma]}`), "Mamma's link is not printed");

    const sheets = join(stateDir, "welcome-sheets.pdf");
    const pages = mkdtempSync(join(tmpdir(), "fresh-clone-sheets-"));
    try {
        assert.equal(spawnSync("pdftoppm", ["-r", "110", "-png", sheets, join(pages, "page")]).status, 0);
        const scanned = readdirSync(pages)
            .sort()
            .flatMap((page) => decodeQrCodes(join(pages, page)));
        assert.ok(
            scanned.includes(links[mamma]),
            `Mamma's sheet does not carry her link: ${scanned.join(", ")}`,
        );
    } finally {
        rmSync(pages, { recursive: true, force: true });
    }

    const endpoint = { host: "127.0.0.1", port: 5222 };
    const chosen = `Mamma's own ${randomBytes(4).toString("hex")}`;
    await choosePasswordInApp(
        endpoint,
        await welcomeUriOf({ address: "127.0.0.1", caFile: join(stateDir, "ca.crt") }, links[mamma]),
        chosen,
    );
    const pappaSession = await loginAt(endpoint, pappa, credentials[pappa], "fresh-clone");
    const mammaSession = await loginAt(endpoint, mamma, chosen, "fresh-clone");
    try {
        // Mamma's app comes online (messages to her address go to the apps that are); the roster
        // query's answer shows the server has handled that.
        await mammaSession.xmpp.send(xml("presence"));
        await mammaSession.roster();
        const body = `Hello from a fresh clone, ${randomBytes(4).toString("hex")}`;
        await pappaSession.xmpp.send(xml("message", { to: mamma, type: "chat" }, xml("body", {}, body)));
        await mammaSession.waitFor(
            (stanza) => stanza.is("message") && stanza.getChildText("body") === body,
            "Pappa's message",
        );

        // A photo, as a desktop app shares it (XEP-0363) once the two steps `npm start` printed are
        // done: the upload host resolves by the /etc/hosts line, and the try-out's CA is trusted.
        const hostsLine = /echo "(\S+) ([^"]+)" \| sudo tee -a \/etc\/hosts/.exec(output);
        assert.ok(hostsLine, "npm start does not print the /etc/hosts line");
        const [address, names] = [hostsLine[1], hostsLine[2].split(" ")];
        const photo = randomBytes(50_000);
        const slot = await pappaSession.xmpp.iqCaller.request(
            xml(
                "iq",
                { type: "get", to: "upload.johansson.example" },
                xml("request", {
                    xmlns: "urn:xmpp:http:upload:0",
                    filename: "midsommar.jpg",
                    size: String(photo.length),
                    "content-type": "image/jpeg",
                }),
            ),
        );
        const put = slot.getChild("slot")?.getChild("put");
        const get = slot.getChild("slot")?.getChild("get")?.attrs.url ?? "";
        assert.ok(names.includes(new URL(get).hostname), `${get}: its host is not in the /etc/hosts line`);
        const headers = Object.fromEntries(
            (put?.getChildren("header") ?? []).map((header) => [header.attrs.name ?? "", header.text()]),
        );
        const uploaded = await httpsAt(address, put?.attrs.url ?? "", "PUT", photo, {
            "content-type": "image/jpeg",
            ...headers,
        });
        assert.equal(uploaded.status, 201);
        await pappaSession.xmpp.send(
            xml(
                "message",
                { to: mamma, type: "chat" },
                xml("body", {}, get),
                xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, get)),
            ),
        );
        const shared = await mammaSession.waitFor(
            (stanza) => stanza.is("message") && stanza.getChildText("body") === get,
            "Pappa's photo",
        );
        const fetched = await httpsAt(
            address,
            shared.getChild("x", "jabber:x:oob")?.getChildText("url") ?? "",
            "GET",
        );
        assert.ok(fetched.body.equals(photo), "the photo came back different");
    } finally {
        await Promise.allSettled([pappaSession.stop(), mammaSession.stop()]);
    }
}

describe("README's two commands on a fresh clone", { skip: skipReason() }, () => {
    let madeUser = false;
    after(() => {
        if (madeUser) spawnSync("userdel", ["--remove", ORDINARY_USER]);
    });

    const runs: { who: string; tryOut: () => TryOut }[] = [
        {
            who: "root, with the clone in root's home (0700)",
            tryOut: () => ({ user: "root", home: "/root" }),
        },
        {
            who: "an ordinary user, with the clone in their home (0700, as Debian's adduser makes it)",
            tryOut: () => {
                madeUser = ensureOrdinaryUser() || madeUser;
                const home = homeOf(ORDINARY_USER);
                chmodSync(home, 0o700);
                return { user: ORDINARY_USER, home };
            },
        },
    ];

    for (const { who, tryOut } of runs) {
        it(
            `bring the family server up and let two members chat, as ${who}`,
            { timeout: 420_000 },
            async (t) => {
                assert.equal(
                    await portOpen(5222),
                    false,
                    "port 5222 is in use: the try-out needs its default port",
                );
                const runAs = tryOut();
                const clone = join(runAs.home, `family-xmpp-fresh-${randomBytes(4).toString("hex")}`);
                let stateDir: string | undefined;
                let started: Awaited<ReturnType<typeof runReadmeCommands>> | undefined;
                try {
                    const start = Date.now();
                    started = await runReadmeCommands(runAs, clone);
                    t.diagnostic(
                        `README's commands brought the server up in ${(Date.now() - start) / 1000} s`,
                    );
                    const output = started.output();
                    stateDir = dirname(/^Accounts \(also in (.+)\):$/m.exec(output)?.[1] ?? "");
                    assert.ok(existsSync(join(stateDir, "credentials.json")), output);
                    setDefaultCACertificates([
                        ...getCACertificates("default"),
                        readFileSync(join(stateDir, "ca.crt"), "utf8"),
                    ]);
                    await familyChats(stateDir, output);
                    await pressCtrlC(started.child);
                    assert.match(started.output(), /Stopping Prosody\.\.\./);
                    assert.equal(await portOpen(5222), false, "Prosody still listens after Ctrl-C");
                } finally {
                    if (started) {
                        await pressCtrlC(started.child);
                    }
                    rmSync(clone, { recursive: true, force: true });
                    if (stateDir && !stateDir.startsWith(clone))
                        rmSync(stateDir, { recursive: true, force: true });
                }
            },
        );
    }
});
