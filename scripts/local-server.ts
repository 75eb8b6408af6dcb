import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
    chmodSync,
    chownSync,
    closeSync,
    existsSync,
    mkdirSync,
    openSync,
    readFileSync,
    statSync,
    rmSync,
    writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { once } from "node:events";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FamilyModel, jidOf } from "../model/family";
import { certificateNames } from "../render/certificates";
import {
    Listeners,
    PRODUCTION_HOST,
    PublicAddresses,
    ServerFile,
    ServerHost,
    ServerPaths,
} from "../render/layout";
import { renderSyncFamilyFiles, secretOnStdin } from "../render/provisioning";
import { renderDisableAccount, renderEnsureAccount, renderEraseAccount } from "../render/accounts";
import { renderSyncCallSecret } from "../render/calls";
import { renderFamilyFiles } from "../render/server-files";
import { renderWelcomeLink } from "../render/welcome";
import { shellWord } from "../render/template";

/**
 * Debian's Prosody, started on 127.0.0.1 from the same rendered files the VPS gets (paths mapped
 * into a state directory, ports shifted), with accounts created by the same scripts the
 * provisioning step runs over SSH.
 */
export interface LocalServer {
    readonly model: FamilyModel;
    readonly stateDir: string;
    /** The try-out's instance of the server: what differs from the VPS is all in here. */
    readonly host: ServerHost;
    readonly paths: ServerPaths;
    readonly listeners: Listeners;
    /** The try-out's own address (coturn's), which coturn never relays to, as on the VPS. */
    readonly addresses: PublicAddresses;
    /** PEM of the local certificate authority that signed the server's certificate. */
    readonly caCertificate: string;
    /** `{ jid: password }` for every member. */
    readonly credentials: Readonly<Record<string, string>>;
    /** `{ jid: link }`: every member's welcome link, made at start (also in welcome-links.json). */
    readonly welcomeLinks: Readonly<Record<string, string>>;
    /** A fresh welcome link for one member, as the provisioning step makes it; older ones stop working. */
    newWelcomeLink(username: string): string;
    /**
     * What `pulumi up` does after the family config changed: the family files written and read
     * again, accounts created for new members and deleted for removed ones.
     */
    applyFamilyChange(model: FamilyModel): void;
    stop(): Promise<void>;
}

export interface LocalServerOptions {
    readonly model: FamilyModel;
    readonly stateDir: string;
    readonly portOffset: number;
    /**
     * Where coturn listens and relays (default 127.0.0.1). coturn never relays to loopback or
     * private peers, so a test that relays for real runs it in a network namespace on an address
     * that is neither.
     */
    readonly turn?: { readonly address: string; readonly netns?: string };
    /** A place of its own in the federation lab (tests/federation), instead of loopback. */
    readonly lab?: LabPlacement;
}

/**
 * What a server needs to live in the federation lab: a network namespace of its own, where Prosody
 * keeps the VPS's ports on the namespace's address and finds other servers through the namespace's
 * resolver (`/etc/netns/<namespace>/resolv.conf`, the lab's DNS server), and the lab's certificate
 * authority, which signs every server's certificate there.
 */
export interface LabPlacement {
    readonly namespace: string;
    readonly address: string;
    /** The special-use zone (RFC 6761) the lab's domains live in, e.g. `test.`. */
    readonly specialUseZone: string;
    readonly certificateAuthority: CertificateAuthority;
}

/** A certificate authority's key and certificate (PEM files). */
export interface CertificateAuthority {
    readonly keyFile: string;
    readonly certificateFile: string;
}

/** A problem the person running the try-out can fix (shown without a stack trace). */
export class LocalServerError extends Error {}

const RUNS_AS_ROOT = process.getuid?.() === 0;

/**
 * Where the try-out keeps its state when run as root: Prosody then runs as Debian's `prosody` user,
 * which cannot enter a private home such as /root, where a clone of this repository may well be.
 */
export const TRY_OUT_STATE_ROOT = "/var/lib/family-xmpp-try-out";

export function prosodyInstalled(): boolean {
    return (
        spawnSync("sh", ["-c", "command -v prosody && command -v prosodyctl"], { stdio: "ignore" }).status ===
        0
    );
}

/**
 * The try-out's server: every path inside `stateDir`, Prosody and coturn on loopback (or coturn on
 * `turnAddress`) with every port moved by `portOffset`, HTTPS on 5443 + offset instead of 443, the
 * files owned by whoever runs it, and coturn driven by the try-out itself instead of systemd. In the
 * federation lab, Prosody listens on its namespace's address, HTTPS on 443 + offset as on the VPS,
 * and looks up the lab's special-use zone.
 */
export function localHost(
    stateDir: string,
    portOffset: number,
    turnAddress = "127.0.0.1",
    lab?: LabPlacement,
): ServerHost {
    const production = PRODUCTION_HOST.listeners;
    const owner = RUNS_AS_ROOT ? "root:prosody" : `${process.getuid?.()}:${process.getgid?.()}`;
    return {
        paths: {
            prosodyConfig: join(stateDir, "prosody.cfg.lua"),
            groupsFile: join(stateDir, "family-groups.txt"),
            familyFile: join(stateDir, "family.json"),
            prosodyModulesDir: join(stateDir, "modules"),
            dataPath: join(stateDir, "data"),
            pidfile: join(stateDir, "prosody.pid"),
            certificatesDir: join(stateDir, "certs"),
            logFile: join(stateDir, "prosody.log"),
            prosodySecretsDir: join(stateDir, "secrets.d"),
            turnConfig: join(stateDir, "turnserver.conf"),
            turnCertificate: join(stateDir, "turn", "fullchain.pem"),
            turnPrivateKey: join(stateDir, "turn", "privkey.pem"),
            letsEncryptLive: join(stateDir, "letsencrypt", "live"),
            letsEncryptState: join(stateDir, "letsencrypt"),
            backupDir: join(stateDir, "backup"),
            backupStatusFile: join(stateDir, "backup-status"),
            backupCopyDir: join(stateDir, "backup-copy"),
            restoreDir: join(stateDir, "restore"),
            commandsDir: join(stateDir, "bin"),
            systemdUnitsDir: join(stateDir, "systemd"),
        },
        listeners: {
            interfaces: [lab?.address ?? "127.0.0.1"],
            c2sPort: production.c2sPort + portOffset,
            s2sPort: production.s2sPort + portOffset,
            c2sDirectTlsPort: production.c2sDirectTlsPort + portOffset,
            s2sDirectTlsPort: production.s2sDirectTlsPort + portOffset,
            // Binding 443 takes a privilege the try-out does not have; the lab's namespaces grant it.
            httpsPort: (lab ? production.httpsPort : 5443) + portOffset,
            turnInterfaces: [turnAddress],
            turnPort: production.turnPort + portOffset,
            turnsPort: production.turnsPort + portOffset,
        },
        owners: {
            prosodyFiles: owner,
            turnSecrets: RUNS_AS_ROOT ? "root:root" : owner,
            prosodySecrets: owner,
            prosodyData: RUNS_AS_ROOT ? "prosody:prosody" : owner,
            backupSecrets: RUNS_AS_ROOT ? "root:root" : owner,
        },
        commands: {
            // As root, prosodyctl drops to Prosody's user by itself (and stays root for `--root`).
            prosodyctl: `command prosodyctl --config ${shellWord(join(stateDir, "prosody.cfg.lua"))}`,
            // The try-out always starts Prosody from the current config: it never needs this.
            restartProsody: "false",
            // The try-out starts coturn itself, after the calls step, if it is installed at all.
            restartTurn: "true",
            installTurn: "true",
            reloadTurnCertificate: "true",
            // The try-out's Prosody belongs to the process that started it, which stops it before a
            // restore and starts it after; its backups copy the data while it runs.
            stopProsody: "true",
            startProsody: "true",
            // The try-out installs nothing: restic comes with `npm start` as root, or by hand.
            installRestic: "true",
            // No systemd here: the try-out runs its backup and its alert by hand.
            startBackupTimers: "true",
            stopBackupTimers: "true",
        },
        resolver: { specialUseZone: lab?.specialUseZone ?? null },
    };
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
    if (!prosodyInstalled()) {
        throw new LocalServerError(
            "Prosody is not installed. Run `npm start` as root to install it, or see README, " +
                '"Try it on this machine" (Prosody 13: bookworm-backports on Debian 12)',
        );
    }
    const { model } = options;
    const stateDir = resolve(options.stateDir);
    const { lab } = options;
    const host = localHost(stateDir, options.portOffset, options.turn?.address, lab);
    const address = listenAddress(host);
    const { paths, listeners } = host;
    const addresses = { ipv4: listeners.turnInterfaces[0] };
    for (const dir of [
        stateDir,
        paths.dataPath,
        paths.certificatesDir,
        paths.prosodySecretsDir,
        paths.prosodyModulesDir,
    ]) {
        makeDirectory(dir, 0o750);
    }
    await refusePortInUse(listeners.c2sPort, address);

    const caCertificate = ensureCertificates(
        stateDir,
        paths.certificatesDir,
        model,
        lab?.certificateAuthority,
    );
    for (const file of renderFamilyFiles(model, host)) writeServerFile(file);
    if (RUNS_AS_ROOT) {
        chownTree(stateDir);
        refuseUnreachableConfig(paths.prosodyConfig);
    }
    const turn = model.calls ? startCalls(model, host, addresses, stateDir, options.turn?.netns) : undefined;

    const prosody = startProsody(paths, stateDir, lab?.namespace);
    try {
        if (turn)
            await waitForPort(
                listeners.turnPort,
                turn,
                join(stateDir, "turnserver.log"),
                listeners.turnInterfaces[0],
            );
        await waitForPort(listeners.c2sPort, prosody, paths.logFile, address);
        await waitForAdminShell(host);
        const credentials = ensureAccounts(model, stateDir, host);
        const welcomeLinks = writeWelcomeLinks(model, stateDir, host);
        let current = model;
        return {
            model,
            stateDir,
            host,
            paths,
            listeners,
            addresses,
            caCertificate,
            credentials,
            welcomeLinks,
            newWelcomeLink: (username) => runScript(renderWelcomeLink(current, username, host)).trim(),
            applyFamilyChange(changed: FamilyModel) {
                runScript(renderSyncFamilyFiles(changed, renderFamilyFiles(changed, host), host));
                Object.assign(credentials, ensureAccounts(changed, stateDir, host));
                const kept = new Set(changed.members.map((member) => member.username));
                for (const { username } of current.members.filter((member) => !kept.has(member.username))) {
                    runScript(renderDisableAccount(current, username, host));
                    delete credentials[jidOf(current, username)];
                }
                for (const { username } of changed.removedMembers.filter((removed) => removed.erase)) {
                    runScript(renderEraseAccount(changed, username, host));
                }
                current = changed;
            },
            stop: () => Promise.all([stopProcess(prosody), turn && stopProcess(turn)]).then(() => undefined),
        };
    } catch (error) {
        await Promise.all([stopProcess(prosody), turn && stopProcess(turn)]);
        throw error;
    }
}

export function coturnInstalled(): boolean {
    return spawnSync("sh", ["-c", "command -v turnserver"], { stdio: "ignore" }).status === 0;
}

/**
 * The calls step as the VPS runs it (coturn's config and Prosody's copy of a secret kept in
 * `stateDir`), then coturn itself, if it is installed.
 */
function startCalls(
    model: FamilyModel,
    host: ServerHost,
    addresses: PublicAddresses,
    stateDir: string,
    netns: string | undefined,
): ChildProcess | undefined {
    const secretFile = join(stateDir, "calls-secret");
    if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(24).toString("hex"), { mode: 0o600 });
    const script = renderSyncCallSecret(model, addresses, host);
    runScript(script, secretOnStdin(readFileSync(secretFile, "utf8").trim()));
    if (!coturnInstalled()) {
        console.warn(
            "coturn is not installed (apt-get install coturn): " +
                "apps get TURN credentials, but nothing answers them",
        );
        return undefined;
    }
    const command = [
        ...(netns ? ["ip", "netns", "exec", netns] : []),
        "turnserver",
        "-c",
        host.paths.turnConfig,
        "--pidfile=",
    ];
    const log = openSync(join(stateDir, "turnserver.log"), "a");
    const coturn = spawn(command[0], command.slice(1), {
        cwd: stateDir,
        stdio: ["ignore", log, log],
    });
    closeSync(log);
    return coturn;
}

/**
 * `dir` with `mode`, and any missing parent with 0755: mkdirSync's `recursive` would give the parents
 * `mode` too, and a parent only root may enter keeps Prosody's user out of everything below it.
 */
function makeDirectory(dir: string, mode: number): void {
    const parent = dirname(dir);
    if (!existsSync(parent)) makeDirectory(parent, 0o755);
    if (!existsSync(dir)) mkdirSync(dir);
    chmodSync(dir, mode);
}

/**
 * As root, Prosody runs as Debian's `prosody` user, which cannot enter a private directory such as
 * /root: say which directory keeps it out before starting it, instead of a Prosody that cannot
 * find its config.
 */
function refuseUnreachableConfig(configFile: string): void {
    const asProsody = (...test: string[]) =>
        spawnSync("runuser", ["-u", "prosody", "--", "test", ...test], { stdio: "ignore" }).status === 0;
    if (asProsody("-r", configFile)) return;
    const parents: string[] = [];
    for (let dir = dirname(configFile); dir !== dirname(dir); dir = dirname(dir)) parents.unshift(dir);
    const closed = parents.find((dir) => !asProsody("-x", dir));
    const mode = closed ? (statSync(closed).mode & 0o777).toString(8).padStart(4, "0") : "";
    throw new LocalServerError(
        `Prosody runs as Debian's prosody user, which cannot ${
            closed ? `enter ${closed} (mode ${mode})` : `read ${configFile}`
        }. Give --state a directory it can reach, such as ${TRY_OUT_STATE_ROOT}/<name> ` +
            "(where `npm start` keeps it when run as root).",
    );
}

function writeServerFile(file: ServerFile): void {
    writeFileSync(file.path, file.content, { mode: parseInt(file.permissions, 8) });
    chmodSync(file.path, parseInt(file.permissions, 8));
}

/**
 * A certificate for the domain and host name (in `certificatesDir`, named as Prosody looks for it),
 * signed by the given CA or else by a local CA kept in `stateDir`, both kept across runs. Returns
 * the CA's PEM.
 */
export function ensureCertificates(
    stateDir: string,
    certificatesDir: string,
    model: FamilyModel,
    authority = ensureCertificateAuthority(stateDir, "family-xmpp local try-out CA"),
): string {
    const key = join(certificatesDir, `${model.domain}.key`);
    const cert = join(certificatesDir, `${model.domain}.crt`);
    if (!existsSync(cert)) issueCertificate(authority, certificateNames(model), key, cert);
    return readFileSync(authority.certificateFile, "utf8");
}

/** A certificate authority (ECDSA P-256) in `dir` (`ca.key`, `ca.crt`), made once. */
export function ensureCertificateAuthority(dir: string, name: string): CertificateAuthority {
    const authority = { keyFile: join(dir, "ca.key"), certificateFile: join(dir, "ca.crt") };
    if (!existsSync(authority.certificateFile)) {
        writeSelfSignedCertificate(authority.keyFile, authority.certificateFile, {
            commonName: name,
            days: 3650,
        });
    }
    return authority;
}

/** A self-signed certificate with a new ECDSA P-256 key: a CA, or a server that no CA vouches for. */
export function writeSelfSignedCertificate(
    keyFile: string,
    certificateFile: string,
    { commonName, days, subjectAltName }: { commonName: string; days: number; subjectAltName?: string },
): void {
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        String(days),
        "-subj",
        `/CN=${commonName}`,
        ...(subjectAltName ? ["-addext", `subjectAltName=${subjectAltName}`] : []),
        "-keyout",
        keyFile,
        "-out",
        certificateFile,
    );
}

/**
 * A server certificate for `names`, issued the way Let's Encrypt issues them since 2026-02-11: an
 * ECDSA P-256 key, the names as subjectAltName, and the serverAuth extended key usage only (no
 * clientAuth), so that the try-out and the tests see what a family's server really presents. Only
 * its lifetime is longer, so that a try-out kept across months does not need a renewal.
 */
export function issueCertificate(
    authority: CertificateAuthority,
    names: readonly string[],
    keyFile: string,
    certificateFile: string,
): void {
    const request = `${certificateFile}.csr`;
    const extensions = `${certificateFile}.ext`;
    writeFileSync(
        extensions,
        `subjectAltName=${names.map((name) => `DNS:${name}`).join(",")}\n` +
            "basicConstraints=critical,CA:FALSE\n" +
            "keyUsage=critical,digitalSignature\n" +
            "extendedKeyUsage=serverAuth\n",
    );
    openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        `/CN=${names[0]}`,
        "-keyout",
        keyFile,
        "-out",
        request,
    );
    openssl(
        "x509",
        "-req",
        "-in",
        request,
        "-CA",
        authority.certificateFile,
        "-CAkey",
        authority.keyFile,
        "-CAcreateserial",
        "-days",
        "825",
        "-extfile",
        extensions,
        "-out",
        certificateFile,
    );
    rmSync(request);
    rmSync(extensions);
}

function openssl(...args: string[]): void {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** What in the state directory is for whoever runs the try-out, never for Prosody's user. */
export const PRIVATE_STATE_FILES = [
    "ca.key",
    "credentials.json",
    "calls-secret",
    "welcome-links.json",
    "welcome-sheets.html",
    "welcome-sheets.pdf",
];

function chownTree(dir: string): void {
    execFileSync("chown", ["-R", "prosody:prosody", dir]);
    for (const file of PRIVATE_STATE_FILES.map((name) => join(dir, name))) {
        if (existsSync(file)) chownSync(file, 0, 0);
    }
}

/** Prosody in the foreground, as its own user when run as root, in `namespace` if given. */
function startProsody(paths: ServerPaths, stateDir: string, namespace?: string): ChildProcess {
    const command = [
        ...(namespace ? ["ip", "netns", "exec", namespace] : []),
        ...(RUNS_AS_ROOT ? ["runuser", "-u", "prosody", "--"] : []),
        "prosody",
        "--config",
        paths.prosodyConfig,
        "-F",
    ];
    return keepRecentOutput(spawn(command[0], command.slice(1), { cwd: stateDir }));
}

/**
 * The last few kilobytes a server wrote to stdout and stderr: where Prosody says why it cannot start
 * (a config it cannot read, say) before it has a log file.
 */
const recentOutput = new WeakMap<ChildProcess, { text: string }>();

function keepRecentOutput(server: ChildProcess): ChildProcess {
    const kept = { text: "" };
    const keep = (chunk: Buffer) => {
        kept.text = (kept.text + chunk.toString()).slice(-4000);
    };
    server.stdout?.on("data", keep);
    server.stderr?.on("data", keep);
    recentOutput.set(server, kept);
    return server;
}

function ensureAccounts(model: FamilyModel, stateDir: string, host: ServerHost): Record<string, string> {
    const file = join(stateDir, "credentials.json");
    const stored: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
    const credentials: Record<string, string> = {};
    for (const member of model.members) {
        const jid = jidOf(model, member.username);
        credentials[jid] = stored[jid] ?? randomBytes(15).toString("base64url");
        runScript(renderEnsureAccount(model, member.username, host), secretOnStdin(credentials[jid]));
    }
    writeFileSync(file, `${JSON.stringify({ ...stored, ...credentials }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return credentials;
}

/** A fresh welcome link for every member, also written to `welcome-links.json` (0600). */
function writeWelcomeLinks(model: FamilyModel, stateDir: string, host: ServerHost): Record<string, string> {
    const links = Object.fromEntries(
        model.members.map((member) => [
            jidOf(model, member.username),
            runScript(renderWelcomeLink(model, member.username, host)).trim(),
        ]),
    );
    const file = join(stateDir, "welcome-links.json");
    writeFileSync(file, `${JSON.stringify(links, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return links;
}

/** Runs a provisioning script as the step would, and returns what it printed. */
function runScript(script: string, stdin = ""): string {
    const result = spawnSync("sh", ["-c", script], { input: stdin, encoding: "utf8" });
    if (result.status !== 0) {
        throw new LocalServerError(
            `a provisioning script failed (exit ${result.status}): ${result.stderr.trim()}`,
        );
    }
    return result.stdout;
}

async function refusePortInUse(port: number, address: string): Promise<void> {
    if (await portOpen(port, address)) {
        throw new LocalServerError(
            `port ${port} on ${address} is in use (another Prosody?); stop it or pass --port-offset`,
        );
    }
}

/** The address the server's Prosody listens on (its first interface). */
function listenAddress(host: ServerHost): string {
    return host.listeners.interfaces[0];
}

/** Whether something accepts TCP connections on host:port. */
export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((done) => {
        const socket = connect({ host, port });
        socket.once("connect", () => {
            socket.destroy();
            done(true);
        });
        socket.once("error", () => done(false));
    });
}

async function waitForPort(
    port: number,
    server: ChildProcess,
    logFile: string,
    host = "127.0.0.1",
): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
        if (server.exitCode !== null) break;
        if (await portOpen(port, host)) return;
        await new Promise((done) => setTimeout(done, 100));
    }
    // What it wrote just before exiting may still be in the pipes.
    if (server.exitCode !== null) await Promise.race([once(server, "close"), sleep(1000)]);
    const said = recentOutput.get(server)?.text.trim();
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-15) : [];
    throw new LocalServerError(
        [
            `${server.spawnargs.join(" ")} did not start listening on ${host}:${port}` +
                (server.exitCode !== null ? ` (it exited with ${server.exitCode}).` : "."),
            ...(said ? ["It said:", said] : []),
            ...(log.length > 0 ? [`The end of its log (${logFile}):`, ...log] : []),
        ].join("\n"),
    );
}

/**
 * Prosody opens its ports and its admin socket in no fixed order: the provisioning scripts talk to
 * the admin socket, so it must answer first.
 */
async function waitForAdminShell(host: ServerHost): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
        const probe = spawnSync("sh", ["-c", `${host.commands.prosodyctl} shell 'return "ready"'`], {
            encoding: "utf8",
        });
        if (probe.stdout.includes("ready")) return;
        if (Date.now() > deadline) {
            throw new LocalServerError(
                `Prosody's admin shell did not answer: ${probe.stdout}${probe.stderr}`,
            );
        }
        await new Promise((done) => setTimeout(done, 100));
    }
}

/** Stops a server the way its service would be stopped: SIGTERM, then SIGKILL after `graceMs`. */
export function stopProcess(server: ChildProcess, graceMs = 10_000): Promise<void> {
    if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
    return new Promise((done) => {
        const force = setTimeout(() => server.kill("SIGKILL"), graceMs);
        server.once("exit", () => {
            clearTimeout(force);
            done();
        });
        server.kill("SIGTERM");
    });
}
