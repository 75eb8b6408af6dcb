import { createHash } from "node:crypto";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
    issueCertificate,
    LabPlacement,
    portOpen,
    writeSelfSignedCertificate,
} from "../../scripts/local-server";
import { FederationLab, LAB_ZONE } from "./lab";

/** A server of the wider network, as the tests reach it. */
export interface OtherServer {
    readonly domain: string;
    readonly placement: LabPlacement;
    readonly logFile: string;
    /** `{ jid: password }` of its accounts. */
    readonly credentials: Readonly<Record<string, string>>;
}

export interface ProsodyServer extends OtherServer {
    /** Runs a line in Prosody's admin shell (`>` for Lua) and returns what it printed. */
    shell(line: string): string;
}

const PACKAGED_PROSODY_CONFIG = "/etc/prosody/prosody.cfg.lua";
const execFileAsync = promisify(execFile);

/** The odd server's dialback secret, so that a test can forge the keys it would confirm. */
export const ODD_DIALBACK_SECRET = "the odd server's dialback secret";

/**
 * Debian's Prosody as a public server runs it: the packaged /etc/prosody/prosody.cfg.lua of the
 * installed package, unchanged but for what a test server must change (its files, a resolver that
 * looks up the lab's zone), with the domain added the Debian way, as a file in conf.d.
 */
export async function startPackagedProsody(
    lab: FederationLab,
    placement: LabPlacement,
    domain: string,
    users: readonly string[],
): Promise<ProsodyServer> {
    const packaged = readFileSync(PACKAGED_PROSODY_CONFIG, "utf8");
    const expected = spawnSync("dpkg-query", ["-W", "-f=${Conffiles}", "prosody"], { encoding: "utf8" })
        .stdout.split("\n")
        .find((line) => line.trim().startsWith(`${PACKAGED_PROSODY_CONFIG} `))
        ?.trim()
        .split(" ")[1];
    const actual = createHash("md5").update(packaged).digest("hex");
    if (actual !== expected) {
        throw new Error(`${PACKAGED_PROSODY_CONFIG} differs from the one Debian's package ships`);
    }
    const dir = join(lab.dir, domain);
    const config = replaceOnce(
        replaceOnce(
            replaceOnce(packaged, 'pidfile = "/run/prosody/prosody.pid";', `pidfile = "${dir}/prosody.pid";`),
            /^log = \{\n[\s\S]*?\n\}$/m,
            `log = { info = "${dir}/prosody.log" }`,
        ),
        'VirtualHost "localhost"',
        [
            "-- family-xmpp's federation lab: its own files, and a resolver that looks up the lab's zone",
            `data_path = "${dir}/data"`,
            unboundSettings(),
            "",
            'VirtualHost "localhost"',
        ].join("\n"),
    );
    const confd: [string, string][] = [[`${domain}.cfg.lua`, `VirtualHost "${domain}"\n`]];
    return startProsody(lab, placement, domain, dir, config, confd, users);
}

/**
 * A Prosody of the test's own for the odd ones out: `push.apps.test`, a push service (an App
 * Server of XEP-0357) whose one account receives what is published to it, and two servers that
 * try to federate with certificates nobody should accept, one self-signed and one issued for
 * another name.
 */
export async function startOddProsody(
    lab: FederationLab,
    placement: LabPlacement,
    pushUser: string,
): Promise<ProsodyServer> {
    const dir = join(lab.dir, "odd");
    mkdirSync(join(dir, "certs"), { recursive: true });
    const selfSigned = join(dir, "certs", "selfsigned");
    writeSelfSignedCertificate(`${selfSigned}.key`, `${selfSigned}.crt`, {
        commonName: "selfsigned.test",
        days: 30,
        subjectAltName: "DNS:selfsigned.test",
    });
    const wrongName = join(dir, "certs", "wrongname");
    issueCertificate(lab.certificateAuthority, ["someone-else.test"], `${wrongName}.key`, `${wrongName}.crt`);
    const config = [
        `pidfile = "${dir}/prosody.pid"`,
        `data_path = "${dir}/data"`,
        `log = { info = "${dir}/prosody.log" }`,
        'certificates = "certs"',
        unboundSettings(),
        'modules_enabled = { "roster"; "saslauth"; "tls"; "dialback"; "disco"; "ping"; "s2s_bidi";',
        '    "admin_shell" }',
        'authentication = "internal_hashed"',
        "s2s_secure_auth = true",
        `dialback_secret = "${ODD_DIALBACK_SECRET}"`,
        "",
        'VirtualHost "push.apps.test"',
        "",
        "-- These two accept anyone: they are here to be refused.",
        'VirtualHost "selfsigned.test"',
        "    s2s_secure_auth = false",
        `    ssl = { certificate = "${selfSigned}.crt"; key = "${selfSigned}.key" }`,
        'VirtualHost "wrongname.test"',
        "    s2s_secure_auth = false",
        `    ssl = { certificate = "${wrongName}.crt"; key = "${wrongName}.key" }`,
        "",
    ].join("\n");
    issueCertificate(
        lab.certificateAuthority,
        ["push.apps.test"],
        join(dir, "certs", "push.apps.test.key"),
        join(dir, "certs", "push.apps.test.crt"),
    );
    return startProsody(lab, placement, "push.apps.test", dir, config, [], [pushUser]);
}

async function startProsody(
    lab: FederationLab,
    placement: LabPlacement,
    domain: string,
    dir: string,
    config: string,
    confd: readonly (readonly [string, string])[],
    users: readonly string[],
): Promise<ProsodyServer> {
    mkdirSync(join(dir, "certs"), { recursive: true });
    mkdirSync(join(dir, "conf.d"), { recursive: true });
    mkdirSync(join(dir, "data"), { recursive: true });
    const configFile = join(dir, "prosody.cfg.lua");
    writeFileSync(configFile, config);
    for (const [name, content] of confd) writeFileSync(join(dir, "conf.d", name), content);
    const key = join(dir, "certs", `${domain}.key`);
    const cert = join(dir, "certs", `${domain}.crt`);
    if (!existsSync(cert)) issueCertificate(lab.certificateAuthority, [domain], key, cert);
    // prosodyctl, run as root, writes the accounts as Prosody's user
    spawnSync("chown", ["-R", "prosody:prosody", dir]);
    const credentials: Record<string, string> = {};
    for (const user of users) {
        const jid = `${user}@${domain}`;
        credentials[jid] = `pw-${user}-${lab.id}`;
        run("prosodyctl", ["--config", configFile, "register", user, domain, credentials[jid]]);
    }
    const logFile = join(dir, "prosody.log");
    const prosody = lab.spawnIn(
        placement.namespace,
        ["runuser", "-u", "prosody", "--", "prosody", "--config", configFile, "-F"],
        join(dir, "stderr.log"),
    );
    const shell = (line: string) =>
        spawnSync("prosodyctl", ["--config", configFile, "shell", line], { encoding: "utf8" }).stdout;
    const deadline = Date.now() + 20_000;
    while (!((await portOpen(5222, placement.address)) && shell('return "ready"').includes("ready"))) {
        if (Date.now() > deadline || prosody.exitCode !== null) {
            throw new Error(`Prosody for ${domain} did not start; see ${logFile}`);
        }
        await new Promise((done) => setTimeout(done, 100));
    }
    return { domain, placement, logFile, credentials, shell };
}

/**
 * Debian 12's ejabberd (23.01) with its packaged /etc/ejabberd/ejabberd.yml, changed only where a
 * test server must be: its domains and certificate, and ejabberdctl's own config and directories
 * (Debian's /etc/default/ejabberd would otherwise point it at the system's), with the Erlang
 * distribution on a fixed port instead of epmd, which would outlive the test. Its second domain,
 * `withoutDialback`, runs the same modules but mod_s2s_dialback, as some admins run it.
 */
export async function startEjabberd(
    lab: FederationLab,
    placement: LabPlacement,
    domains: { readonly packaged: string; readonly withoutDialback: string },
    users: readonly string[],
): Promise<OtherServer> {
    const { packaged: domain, withoutDialback } = domains;
    const dir = join(lab.dir, domain);
    for (const sub of ["config", "logs", "spool"]) mkdirSync(join(dir, sub), { recursive: true });
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    issueCertificate(lab.certificateAuthority, [domain, `conference.${domain}`, withoutDialback], key, cert);
    writeFileSync(join(dir, "config", "server.pem"), readFileSync(cert, "utf8") + readFileSync(key, "utf8"));
    const packagedConfig = readFileSync("/etc/ejabberd/ejabberd.yml", "utf8");
    const modules = /^modules:\n((?: .*\n|\n)*)/m.exec(packagedConfig)?.[1] ?? "";
    const config = replaceOnce(
        replaceOnce(
            packagedConfig,
            /^hosts:\n {2}- localhost$/m,
            `hosts:\n  - ${domain}\n  - ${withoutDialback}`,
        ),
        /^certfiles:\n {2}- "\/etc\/ejabberd\/ejabberd.pem"$/m,
        `certfiles:\n  - "${join(dir, "config", "server.pem")}"`,
    );
    const withoutDialbackModules = modules
        .split("\n")
        .filter((line) => line.trim() !== "mod_s2s_dialback: {}")
        .map((line) => (line ? `    ${line}` : line))
        .join("\n");
    writeFileSync(
        join(dir, "config", "ejabberd.yml"),
        `${config}\nhost_config:\n  ${withoutDialback}:\n    modules:\n${withoutDialbackModules}`,
    );
    copyFileSync("/etc/ejabberd/inetrc", join(dir, "config", "inetrc"));
    writeFileSync(
        join(dir, "config", "ejabberdctl.cfg"),
        [
            'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"',
            `EJABBERD_PID_PATH=${join(dir, "spool", "ejabberd.pid")}`,
            `CONTRIB_MODULES_CONF_DIR=${join(dir, "config", "modules.d")}`,
            "ERL_DIST_PORT=5210",
            "",
        ].join("\n"),
    );
    spawnSync("chown", ["-R", "ejabberd:ejabberd", dir]);
    const ctl = [
        "ejabberdctl",
        "--config-dir",
        join(dir, "config"),
        "--logs",
        join(dir, "logs"),
        "--spool",
        join(dir, "spool"),
    ];
    lab.spawnIn(placement.namespace, [...ctl, "foreground"], join(dir, "foreground.log"), dir);
    // Waited for without blocking: the other servers start meanwhile.
    const started = await execFileAsync("ip", ["netns", "exec", placement.namespace, ...ctl, "started"], {
        timeout: 60_000,
    }).catch((error: Error) => error);
    if (started instanceof Error || !(await portOpen(5269, placement.address))) {
        throw new Error(`ejabberd did not start: ${String(started)}; see ${dir}/logs`);
    }
    const credentials: Record<string, string> = {};
    for (const jid of users) {
        const [user, host] = jid.split("@");
        credentials[jid] = `pw-${user}-${lab.id}`;
        lab.runIn(placement.namespace, [...ctl, "register", user, host, credentials[jid]]);
    }
    return { domain, placement, logFile: join(dir, "logs", "ejabberd.log"), credentials };
}

/** Makes libunbound look up the lab's special-use zone, which it otherwise answers itself. */
function unboundSettings(): string {
    return `unbound = { options = { ["local-zone:"] = "${LAB_ZONE} transparent" } }`;
}

function replaceOnce(text: string, from: string | RegExp, to: string): string {
    const matches =
        typeof from === "string"
            ? text.split(from).length - 1
            : (text.match(new RegExp(from, "gm")) ?? []).length;
    if (matches !== 1)
        throw new Error(`expected ${String(from)} once in a packaged config, found it ${matches} times`);
    return text.replace(from, () => to);
}

function run(command: string, args: readonly string[]): void {
    const result = spawnSync(command, args, { encoding: "utf8" });
    if (result.status !== 0)
        throw new Error(`${command} ${args.join(" ")}: ${result.stdout}${result.stderr}`);
}
