/**
 * The comparison server of bench/load.ts: Debian's Prosody with its packaged
 * /etc/prosody/prosody.cfg.lua, changed only where a test server on this machine must differ
 * (its domain, port, certificate, data, pid and log files in a state directory) and given the
 * family's shared group through mod_groups, so that every presence fans out as on the family's server,
 * and mod_mam, which Debian's config leaves off: it keeps a copy of every message for its recipient,
 * the count of what the server accepted (bench/load/stored-messages.ts); the project's config has it.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FamilyModel } from "../../model/family";
import { renderGroupsFile } from "../../render/prosody";
import { ensureCertificates, portOpen, stopProcess } from "../../scripts/local-server";

export const PACKAGED_CONFIG = "/etc/prosody/prosody.cfg.lua";

/** Debian's config with the test server's differences; everything else stays as packaged. */
export function renderStockConfig(packaged: string, model: FamilyModel, stateDir: string, c2sPort: number) {
    // Global settings go before the first VirtualHost, where Debian's file says they belong.
    const place = [
        "-- The test server's place on this machine (bench/load.ts).",
        `data_path = "${join(stateDir, "data")}"`,
        'interfaces = { "127.0.0.1" }',
        `c2s_ports = { ${c2sPort} }`,
        "s2s_ports = { }",
        `groups_file = "${join(stateDir, "groups.txt")}"`,
        "",
        `VirtualHost "${model.domain}"`,
    ].join("\n");
    const rendered = packaged
        .replace(/^pidfile = .*$/m, `pidfile = "${join(stateDir, "prosody.pid")}"`)
        .replace(/^certificates = .*$/m, `certificates = "${join(stateDir, "certs")}"`)
        .replace(/^log = \{[\s\S]*?^\}/m, `log = { info = "${join(stateDir, "prosody.log")}" }`)
        .replace(/^VirtualHost "localhost"$/m, place)
        // The packaged includes (conf.d) hold Debian's example hosts, not this test server's.
        .replace(/^Include "conf\.d\/\*\.cfg\.lua"$/m, "")
        .replace(
            /^modules_enabled = \{$/m,
            'modules_enabled = {\n\t\t"groups"; -- the family group (bench)' +
                '\n\t\t"mam"; -- the count of messages stored (bench)',
        );
    for (const line of ["pidfile = ", "certificates = ", "log = { info", "data_path", '"groups"', '"mam"']) {
        if (!rendered.includes(line)) throw new Error(`${PACKAGED_CONFIG} changed shape: no ${line}`);
    }
    return rendered;
}

/**
 * Writes the stock server's config in `stateDir` and gives it the family's members as accounts,
 * each with the password `passwordOf` gives (kept between runs); returns the config's path.
 */
export async function prepareStockServer(
    model: FamilyModel,
    stateDir: string,
    c2sPort: number,
    passwordOf: (username: string) => string,
): Promise<string> {
    for (const dir of [stateDir, join(stateDir, "data"), join(stateDir, "certs")]) {
        if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
        chmodSync(dir, 0o755);
    }
    ensureCertificates(stateDir, join(stateDir, "certs"), model);
    const config = join(stateDir, "prosody.cfg.lua");
    writeFileSync(config, renderStockConfig(readFileSync(PACKAGED_CONFIG, "utf8"), model, stateDir, c2sPort));
    writeFileSync(join(stateDir, "groups.txt"), renderGroupsFile(model));
    execFileSync("chown", ["-R", "prosody:prosody", stateDir]);
    const prosody = await startProsody(config, c2sPort);
    try {
        createAccounts(model, config, passwordOf);
    } finally {
        await prosody.stop();
    }
    return config;
}

export interface RunningProsody {
    readonly pid: number;
    stop(): Promise<void>;
}

/** Prosody from `config` as Debian's prosody user, in the foreground, once it accepts apps on `c2sPort`. */
export async function startProsody(config: string, c2sPort: number): Promise<RunningProsody> {
    if (await portOpen(c2sPort)) throw new Error(`port ${c2sPort} is in use`);
    const prosody = spawn("runuser", ["-u", "prosody", "--", "prosody", "--config", config, "-F"], {
        stdio: "ignore",
    });
    const stop = () => stopProcess(prosody);
    try {
        await waitFor(() => portOpen(c2sPort), `Prosody (${config}) on port ${c2sPort}`);
        const pid = Number(execFileSync("pgrep", ["-P", String(prosody.pid)], { encoding: "utf8" }).trim());
        return { pid, stop };
    } catch (error) {
        await stop();
        throw error;
    }
}

/**
 * Every account, in one admin shell session (one prosodyctl per account would take minutes); an
 * account made by an earlier run answers "exists" and keeps its password.
 */
function createAccounts(model: FamilyModel, config: string, passwordOf: (username: string) => string) {
    const lines = model.members.map(
        ({ username }) => `user:create("${username}@${model.domain}", "${passwordOf(username)}")`,
    );
    const script = `${lines.join("\n")}\nreturn "accounts-" .. "done"\n`;
    for (let attempt = 0; ; attempt++) {
        const result = spawnSync("prosodyctl", ["--config", config, "shell"], {
            input: script,
            encoding: "utf8",
        });
        const answers = result.stdout.split("\n").filter((line) => line.startsWith("| "));
        const refused = answers.filter((line) => /Error|Fail/i.test(line) && !/exists/i.test(line));
        if (result.stdout.includes("accounts-done") && refused.length === 0) return;
        if (attempt > 50 || refused.length > 0)
            throw new Error(`could not create the accounts: ${refused[0] ?? result.stdout + result.stderr}`);
        spawnSync("sleep", ["0.2"]);
    }
}

async function waitFor(probe: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`${what} did not come up`);
        await new Promise((done) => setTimeout(done, 100));
    }
}
