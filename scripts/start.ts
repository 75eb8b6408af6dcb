import { createHash } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { installProsody } from "./install-prosody";
import { loadStackConfigOrExit } from "./load-stack-config";
import { jidOf } from "../model/family";
import { certificateNames } from "../render/certificates";
import { familyRooms } from "../render/rooms";
import { renderWelcomeSheets } from "../render/welcome-sheet";
import { chromiumInstalled, printToPdf } from "./chromium";
import {
    LocalServer,
    LocalServerError,
    prosodyInstalled,
    startLocalServer,
    TRY_OUT_STATE_ROOT,
} from "./local-server";

/**
 * `npm start`: the family server on this machine, from a stack config, with no cloud account.
 */
async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            "stack-config": { type: "string", default: "Pulumi.dev.yaml" },
            state: { type: "string", default: defaultStateDir() },
            "port-offset": { type: "string", default: "0" },
        },
    });
    const model = loadStackConfigOrExit(values["stack-config"] ?? "Pulumi.dev.yaml");
    const portOffset = Number(values["port-offset"]);
    if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 50000) {
        console.error("--port-offset must be a whole number from 0 to 50000");
        process.exit(2);
    }
    installProsodyIfMissing();
    const server = await startLocalServer({ model, stateDir: values.state ?? defaultStateDir(), portOffset });
    const sheets = welcomeSheetFiles(server);
    const html = renderWelcomeSheets(server.model, server.welcomeLinks);
    writeFileSync(sheets.html, html, { mode: 0o600 });
    chmodSync(sheets.html, 0o600);
    printWelcome(server, sheets.pdf ? [sheets.html, sheets.pdf] : [sheets.html]);
    const stop = async () => {
        console.log("\nStopping Prosody...");
        await server.stop();
        process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    // After the server is announced: Chromium takes seconds, many on a busy machine.
    if (sheets.pdf) printWelcomeSheetsPdf(html, sheets.pdf);
    console.log("The welcome sheets are written.");
}

function installProsodyIfMissing(): void {
    if (prosodyInstalled() || process.getuid?.() !== 0) return;
    console.log("Prosody is missing; installing Debian's packages (Prosody 13, coturn, openssl)...");
    try {
        installProsody();
    } catch (error) {
        throw new LocalServerError(`Installing Prosody failed: ${(error as Error).message}`);
    }
}

/**
 * `.state/local` in the clone; as root, where Debian's prosody user (which then runs Prosody) can
 * reach it: a clone may well sit in a home only its owner may enter, such as /root.
 */
function defaultStateDir(): string {
    if (process.getuid?.() !== 0) return join(".state", "local");
    const clone = process.cwd();
    const id = createHash("sha256").update(clone).digest("hex").slice(0, 8);
    return join(TRY_OUT_STATE_ROOT, `${basename(clone)}-${id}`);
}

/** The printable welcome sheets: always as HTML, and as PDF where Debian's Chromium is installed. */
function welcomeSheetFiles(server: LocalServer): { html: string; pdf?: string } {
    const html = join(server.stateDir, "welcome-sheets.html");
    return chromiumInstalled() ? { html, pdf: join(server.stateDir, "welcome-sheets.pdf") } : { html };
}

function printWelcomeSheetsPdf(html: string, pdfFile: string): void {
    try {
        printToPdf(html, pdfFile);
        chmodSync(pdfFile, 0o600);
    } catch (error) {
        console.warn(`No PDF of the welcome sheets: ${(error as Error).message}`);
    }
}

function printWelcome(server: LocalServer, sheets: readonly string[]): void {
    const { model, listeners, stateDir } = server;
    const names = certificateNames(model).join(" ");
    console.log(
        `\nThe family server for ${model.domain} runs on 127.0.0.1:${listeners.c2sPort} ` +
            "(Prosody, the same config the VPS gets).\n",
    );
    console.log("Accounts (also in " + join(stateDir, "credentials.json") + "):");
    for (const [jid, password] of Object.entries(server.credentials)) console.log(`  ${jid}  ${password}`);
    console.log(
        `\nWelcome links, each for one member to choose their own password, once (also in ` +
            `${join(stateDir, "welcome-links.json")}; printable: ${sheets.join(", ")}):`,
    );
    for (const [jid, link] of Object.entries(server.welcomeLinks)) console.log(`  ${jid}  ${link}`);
    console.log("\nGroup chats:");
    for (const room of familyRooms(model)) console.log(`  ${room.jid}  (${room.name})`);
    console.log(`
Connect a desktop app with one of these accounts:
  - Gajim: Add account > Advanced: "Use custom hostname and port": host 127.0.0.1, port ${listeners.c2sPort}.
  - Dino: it looks up ${model.domain} and connects to port 5222\
${listeners.c2sPort === 5222 ? "" : ", so use it with --port-offset 0"}.
  - profanity: /connect ${jidOf(model, model.members[0].username)} server 127.0.0.1 port ${listeners.c2sPort}.
To share files and open welcome links here, once: make the family's names resolve to this machine,
and trust the try-out's own CA (the apps' file transfers use the system's list; a browser asks):
  echo "127.0.0.1 ${names}" | sudo tee -a /etc/hosts
  sudo cp ${join(stateDir, "ca.crt")} /usr/local/share/ca-certificates/family-xmpp-try-out.crt \
&& sudo update-ca-certificates
Every member sees the others of their group in the contact list at once.${
        model.calls
            ? `
Calls: coturn runs on 127.0.0.1:${listeners.turnPort} and the apps get its credentials from Prosody; it
relays only to public addresses, so calls between apps on this machine connect directly.`
            : ""
    }

Ctrl-C stops the server; accounts and history stay in ${stateDir} for the next run.`);
}

main().catch((error: unknown) => {
    if (error instanceof LocalServerError) {
        console.error(error.message);
        process.exit(1);
    }
    throw error;
});
