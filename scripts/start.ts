import { join } from "node:path";
import { parseArgs } from "node:util";
import { installProsody } from "./install-prosody";
import { loadStackConfigOrExit } from "./load-stack-config";
import { LocalServer, LocalServerError, prosodyInstalled, startLocalServer } from "./local-server";

/**
 * `npm start`: the family server on this machine, from a stack config, with no cloud account.
 */
async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            "stack-config": { type: "string", default: "Pulumi.dev.yaml" },
            state: { type: "string", default: join(".state", "local") },
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
    const server = await startLocalServer({ model, stateDir: values.state ?? ".state/local", portOffset });
    printWelcome(server);
    const stop = async () => {
        console.log("\nStopping Prosody...");
        await server.stop();
        process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
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

function printWelcome(server: LocalServer): void {
    const { model, listeners, stateDir } = server;
    console.log(
        `\nThe family server for ${model.domain} runs on 127.0.0.1:${listeners.c2sPort} ` +
            "(Prosody, the same config the VPS gets).\n",
    );
    console.log("Accounts (also in " + join(stateDir, "credentials.json") + "):");
    for (const [jid, password] of Object.entries(server.credentials)) console.log(`  ${jid}  ${password}`);
    console.log(`
Connect a desktop app (Gajim, Dino) with one of these accounts:
  - Gajim: Add account > Advanced: "Use custom hostname and port": host 127.0.0.1, port ${listeners.c2sPort}.
  - Dino: it looks up ${model.domain} in DNS; add "127.0.0.1 ${model.domain}" to /etc/hosts\
${listeners.c2sPort === 5222 ? "" : " and use --port-offset 0"}.
  The certificate is signed by a local CA made for this try-out (${join(stateDir, "ca.crt")}); \
accept it when the app asks.
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
