/**
 * The closest thing to `pulumi up` that runs here: the user data the program renders boots a
 * Debian 13 system container (systemd-nspawn, NoCloud seed, its own network namespace), and the
 * program's own provisioning commands, captured from its Pulumi mocks, are replayed into it over
 * real SSH with the deploy key the program would use. A real XMPP client then chats on it.
 *
 * What differs from a Hetzner VPS: the datasource (NoCloud seed files instead of Hetzner's
 * metadata service), the kernel (the host's, shared), DNS (none is published or queried) and
 * the certificate (certbot cannot reach Let's Encrypt here, so the test installs one signed by
 * its own CA where Prosody looks for it; see "serves the test CA's certificate").
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import {
    copyFileSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    rmSync,
    statSync,
    writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { xml } from "@xmpp/client";
import { certificateNames, IMPORT_HOOK } from "../../render/certificates";
import { hetznerVolumeDevice } from "../../render/cloud-init";
import { DATA_MOUNT, PRODUCTION_HOST } from "../../render/layout";
import { ensureCertificates } from "../../scripts/local-server";
import { checkBackup } from "../../check/backup";
import { CheckResult } from "../../check/report";
import { PRODUCTION_PORTS, runCheck } from "../../check/run-check";
import { startAuthoritativeDns } from "../support/authoritative-dns";
import { familyModel } from "../support/families";
import { missingTools } from "../support/tools";
import { checkWelcomeLink, WELCOME_TOOLS } from "../support/welcome";
import { httpsAt } from "../support/https";
import { RawStream } from "../support/raw-stream";
import { resourceNamed, runStack, StackRun } from "../support/stack-harness";
import { externalServices, RELAY_MESSAGES, relayThrough, turnService } from "../support/turn";
import { loginAt, Session } from "../support/xmpp";
import { BootedContainer } from "./container";
import { ensureImage, LAST_RUN_DIR } from "./debian-image";
import { NetworkLab } from "./network-lab";
import { SftpServer } from "./sftp-server";
import { startS3Server } from "../support/s3";
import { cachedPackages, packagesInstalled, preparePackageCache, prunePackageCache } from "./package-cache";
import { connectionOf, plannedRuns, ProvisioningStep, provisioningSteps, SshTarget } from "./replay";
import { run, runQuietly } from "./shell";

const FAMILY = {
    domain: "family.test",
    members: [
        { username: "anna", name: "Anna", admin: true },
        { username: "bo", name: "Bo" },
        { username: "åsa", name: "Mormor Åsa" },
        { username: "dora", name: "Dora" },
    ],
    groups: [
        { name: "Family", members: ["anna", "bo", "åsa"] },
        { name: "Cousins", members: ["dora"] },
    ],
};
/** Erik joins the family; Bo moves to the cousins. */
const CHANGED_FAMILY = {
    ...FAMILY,
    members: [...FAMILY.members, { username: "erik", name: "Erik" }],
    groups: [
        { name: "Family", members: ["anna", "åsa", "erik"] },
        { name: "Cousins", members: ["dora", "bo"] },
    ],
};
const DOMAIN = FAMILY.domain;
const jid = (username: string) => `${username}@${DOMAIN}`;
const XMPP = { host: NetworkLab.SERVER_ADDRESS, port: 5222 };

function missingPrerequisite(): string | undefined {
    if (process.getuid?.() !== 0)
        return "the boot test needs root (network namespaces, loop devices, systemd-nspawn)";
    for (const [command, pkg] of [
        ["systemd-nspawn", "systemd-container"],
        ["debootstrap", "debootstrap"],
        ["nft", "nftables"],
        ["zstd", "zstd"],
        ["ssh", "openssh-client"],
        ["losetup", "mount"],
        ["mkfs.ext4", "e2fsprogs"],
        ["turnutils_uclient", "coturn"],
        ["sshd", "openssh-server"],
    ]) {
        if (spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status !== 0)
            return `${command} is missing (apt-get install ${pkg})`;
    }
    return undefined;
}
const skipReason = missingPrerequisite();
if (skipReason && process.env.CI === "true")
    throw new Error(`${skipReason}; .ci/run should have provided it`);

const timings: Record<string, number> = {};
/** Per boot: the packages apt installed, and how many of them it had to fetch from the mirror. */
const packageCounts: Record<string, { installed: number; fetched: number }> = {};
/** The archive files the latest boot installed: what the package cache keeps after the run. */
let lastInstalled: Set<string> | undefined;
async function timed<T>(phase: string, work: () => Promise<T> | T): Promise<T> {
    const started = performance.now();
    try {
        return await work();
    } finally {
        timings[phase] = Math.round(performance.now() - started);
        console.log(`boot test: ${phase} took ${(timings[phase] / 1000).toFixed(1)} s`);
    }
}

let lab: NetworkLab;
let workDir: string;
let image: string;
let loopDevice: string | undefined;
let firstRun: StackRun;
let changedRun: StackRun;
let ssh: SshTarget;
/** What points the mocked clouds at the container and hands them the real deploy key. */
let stackEnvironment: Record<string, string>;
let caCertificate: string;
/** What each replayed step printed: the welcome steps print the members' links. */
const stepOutputs = new Map<string, string>();
let server: BootedContainer | undefined;
let packageCache: ReturnType<typeof preparePackageCache>;
let installedAtFirstBoot: string[] = [];
const sessions: Session[] = [];
/** The far end of relayed calls (coturn's turnutils_peer, echoing what reaches it). */
let callPeer: ChildProcess | undefined;
/** The file shared over HTTPS, as its link and bytes: it must come back with a restore. */
let sharedFile: { url: string; content: Buffer } | undefined;
/** The family's backup storage (a Storage Box's stand-in) and the stack that backs up to it. */
let sftpServer: SftpServer | undefined;
let storageBoxKey: string;
let backedUpRun: StackRun;
/** The changed family on the rebuilt server: what the backup is added to. */
let rebuiltRun: StackRun;
/** The family backed up, on the server that replaced the lost one. */
let restoredRun: StackRun;
let s3Stop: (() => void) | undefined;

function passwordsOf(stack: StackRun): Record<string, string> {
    return stack.outputs.passwords.value as Record<string, string>;
}

async function member(username: string, stack: StackRun, resource: string): Promise<Session> {
    const session = await loginAt(XMPP, jid(username), passwordsOf(stack)[jid(username)], resource);
    sessions.push(session);
    return session;
}

async function rosterOf(username: string, stack: StackRun, resource: string): Promise<string[]> {
    const session = await member(username, stack, resource);
    const roster = (await session.roster()).map((item) => `${item.jid} (${item.groups.join()})`).sort();
    await session.stop();
    return roster;
}

/** Boots a new "server" from the user data the program rendered first (the server ignores later changes). */
async function bootServer(name: string, instanceId: string): Promise<BootedContainer> {
    const userData = String(
        resourceNamed(firstRun, "hcloud:index/server:Server", "family-server").inputs.userData,
    );
    const volumeId = resourceNamed(firstRun, "hcloud:index/volume:Volume", "family-data").id;
    const container = new BootedContainer({
        name,
        image,
        workDir,
        namespacePath: lab.namespacePath,
        userData,
        instanceId,
        hostname: "xmpp",
        publicKeys: [String(firstRun.outputs.deployPublicKey.value)],
        volume: { hostDevice: loopDevice ?? "", devicePath: hetznerVolumeDevice(volumeId) },
        packageCache,
    });
    await container.boot();
    return container;
}

/** Counts what apt installed during a boot, and how much of it came from the package cache. */
function countPackages(
    boot: string,
    container: BootedContainer,
    cachedBefore: Map<string, string>,
): string[] {
    const installed = packagesInstalled(container.exec("cat", "/var/log/apt/history.log"));
    packageCounts[boot] = {
        installed: installed.length,
        fetched: installed.filter((file) => !cachedBefore.has(file)).length,
    };
    console.log(
        `boot test: ${boot}: apt installed ${installed.length} packages, ` +
            `fetched ${packageCounts[boot].fetched} from Debian's mirror`,
    );
    lastInstalled = new Set(installed);
    return installed;
}

/** What a person debugging a failed boot wants to see. */
function diagnostics(container: BootedContainer | undefined): string {
    if (!container) return "";
    const inside = (...args: string[]) => {
        try {
            return container.exec(...args);
        } catch (error) {
            return String(error);
        }
    };
    return [
        "--- cloud-init status --long",
        inside("cloud-init", "status", "--long"),
        "--- /var/log/cloud-init-output.log (end)",
        inside("tail", "-n", "40", "/var/log/cloud-init-output.log"),
        "--- systemctl --failed",
        inside("systemctl", "--failed", "--no-legend", "--plain"),
        "--- /var/log/prosody/prosody.log (end)",
        inside("tail", "-n", "30", "/var/log/prosody/prosody.log"),
        "--- journalctl -u coturn (end)",
        inside("journalctl", "-u", "coturn", "-n", "30", "--no-pager"),
        `--- console (end; the whole log is kept in ${LAST_RUN_DIR})`,
        container.consoleTail(40),
    ].join("\n");
}

async function withDiagnostics<T>(work: () => Promise<T>): Promise<T> {
    try {
        return await work();
    } catch (error) {
        throw new Error(`${(error as Error).message}\n${diagnostics(server)}`);
    }
}

async function waitForFirstBoot(container: BootedContainer): Promise<void> {
    await ssh.waitUntilReachable(120_000);
    // Ten minutes at most: a hanging first boot fails the test, with diagnostics, instead of CI.
    container.exec("timeout", "600", "cloud-init", "status", "--wait");
}

describe("the rendered user data on a booted Debian 13", { skip: skipReason }, () => {
    before(async () => {
        image = (await timed("image (build or cache)", () => ensureImage())).path;
        packageCache = preparePackageCache();
        workDir = mkdtempSync(join("/var/tmp", "family-xmpp-boot-"));
        lab = new NetworkLab();
        lab.up();

        const keyFile = join(workDir, "stack-deploy-key");
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "family-xmpp-deploy", "-f", keyFile]);
        stackEnvironment = {
            FAMILY_XMPP_TEST_IPV4: NetworkLab.SERVER_ADDRESS,
            FAMILY_XMPP_TEST_DEPLOY_KEY: JSON.stringify({
                private: readFileSync(keyFile, "utf8"),
                public: readFileSync(`${keyFile}.pub`, "utf8"),
            }),
        };
        firstRun = runStack(FAMILY, stackEnvironment);
        changedRun = runStack(CHANGED_FAMILY, stackEnvironment);
        ssh = new SshTarget(connectionOf(firstRun), workDir);

        mkdirSync(join(workDir, "certs"));
        caCertificate = ensureCertificates(workDir, join(workDir, "certs"), familyModel(FAMILY));
        setDefaultCACertificates([...getCACertificates("default"), caCertificate]);

        // The "Hetzner volume": ext4, as Hetzner formats it, on a loop device of the host.
        const volumeImage = join(workDir, "volume.img");
        run("truncate", ["-s", "1G", volumeImage]);
        run("mkfs.ext4", ["-q", "-F", volumeImage]);
        loopDevice = run("losetup", ["--find", "--show", volumeImage]).trim();
        callPeer = spawn("turnutils_peer", ["-L", NetworkLab.PEER_ADDRESS, "-p", "3480"], {
            stdio: "ignore",
        });
    });

    after(async () => {
        await Promise.allSettled(sessions.map((session) => session.stop()));
        await server?.stop();
        callPeer?.kill();
        s3Stop?.();
        sftpServer?.down();
        lab?.down();
        if (loopDevice) runQuietly("losetup", ["-d", loopDevice]);
        // The consoles of the last run stay for a look after a failure; the rest goes.
        mkdirSync(LAST_RUN_DIR, { recursive: true });
        writeFileSync(join(LAST_RUN_DIR, "timings.json"), `${JSON.stringify(timings, null, 2)}\n`);
        writeFileSync(join(LAST_RUN_DIR, "packages.json"), `${JSON.stringify(packageCounts, null, 2)}\n`);
        if (lastInstalled) prunePackageCache(lastInstalled);
        for (const name of ["fxboot1", "fxboot2", "fxboot3"]) {
            const log = join(workDir ?? "", `${name}-console.log`);
            if (workDir && existsSync(log)) copyFileSync(log, join(LAST_RUN_DIR, `${name}-console.log`));
        }
        if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    it(
        "boots: cloud-init done without errors, the system running, " +
            "no failed unit, the volume mounted by id",
        async () => {
            const cachedBefore = cachedPackages();
            server = await timed("boot to cloud-init done", async () => {
                const container = await bootServer("fxboot1", "family-xmpp-boot-1");
                server = container;
                await withDiagnostics(() => waitForFirstBoot(container));
                return container;
            });
            await withDiagnostics(async () => {
                assert.match(server!.exec("cloud-init", "status", "--long"), /^status: done$/m);
                const result = JSON.parse(server!.exec("cat", "/run/cloud-init/result.json")) as {
                    v1: { errors: unknown[] };
                };
                assert.deepEqual(result.v1.errors, []);
                assert.equal(await systemState(server!), "running");
                assert.equal(server!.exec("systemctl", "--failed", "--no-legend", "--plain").trim(), "");
                const volumeId = resourceNamed(firstRun, "hcloud:index/volume:Volume", "family-data").id;
                assert.equal(
                    server!.exec("findmnt", "-n", "-o", "SOURCE", "/srv/family-data").trim(),
                    hetznerVolumeDevice(volumeId),
                );
                assert.equal(server!.exec("systemctl", "is-active", "prosody").trim(), "active");
                // Before Let's Encrypt's certificate: the self-signed one, readable by Prosody, on every
                // port.
                assert.doesNotMatch(
                    server!.exec("cat", "/var/log/prosody/prosody.log"),
                    /Failed to load|Error binding/,
                );
                assert.ok(server!.exec("ss", "-Htln").includes(":443 "), "nothing listens on 443");
                // coturn runs from the first boot on, as its own user, but knows no secret yet.
                assert.equal(server!.exec("systemctl", "is-active", "coturn").trim(), "active");
                assert.equal(server!.exec("ps", "-o", "user=", "-C", "turnserver").trim(), "turnserver");
                assert.doesNotMatch(server!.exec("cat", "/etc/turnserver.conf"), /^static-auth-secret/m);
            });
            installedAtFirstBoot = countPackages("first boot", server, cachedBefore);
        },
    );

    it(
        "keeps every package the first boot installed in the boot test's cache, owned by root, " +
            "for the rebuild and the next run",
        () => {
            assert.ok(installedAtFirstBoot.length > 0, "apt installed nothing at first boot");
            const cached = cachedPackages();
            assert.deepEqual(
                installedAtFirstBoot.filter((pkg) => !cached.has(pkg)),
                [],
                "installed at first boot, but not in the package cache",
            );
            for (const pkg of installedAtFirstBoot) {
                const file = statSync(join(packageCache.hostDir, cached.get(pkg) ?? ""));
                assert.equal(`${file.uid} ${(file.mode & 0o777).toString(8)}`, "0 644", pkg);
            }
        },
    );

    it(
        "has coturn refuse every relay until the calls step brings the secret " + "(never an open relay)",
        async () => {
            const expires = String(Math.floor(Date.now() / 1000) + 3600);
            const attempt = await relayThrough({
                server: NetworkLab.SERVER_ADDRESS,
                port: 3478,
                transport: "udp",
                username: expires,
                password: "Z3Vlc3NlZA==",
                peer: NetworkLab.PEER_ADDRESS,
            });
            assert.equal(attempt.echoed, 0);
            assert.match(attempt.output, /Cannot complete Allocation/);
        },
    );

    it("takes the program's provisioning steps over SSH, in dependency order", async () => {
        const steps = provisioningSteps(firstRun);
        assert.deepEqual(steps.map((step) => step.name).sort(), [
            "family-account-anna",
            "family-account-bo",
            "family-account-dora",
            "family-account-åsa",
            "family-calls",
            "family-certificate",
            "family-dns-credentials",
            "family-files",
            "family-first-boot",
            "family-welcome-anna",
            "family-welcome-bo",
            "family-welcome-dora",
            "family-welcome-åsa",
        ]);
        const names = steps.map((step) => step.name);
        for (const [index, step] of steps.entries()) {
            for (const dependency of step.dependsOn.filter((name) => names.includes(name))) {
                assert.ok(names.indexOf(dependency) < index, `${step.name} runs before ${dependency}`);
            }
        }
        await timed("provisioning over SSH", () =>
            withDiagnostics(async () => {
                for (const step of steps) runOrStandIn(step, step.create);
            }),
        );
    });

    it(
        "has certbot with its Cloudflare plugin, its state on the volume, the renewal timer, " +
            "and the token in a root-only file",
        () => {
            assert.match(server!.exec("certbot", "plugins", "--text"), /\* dns-cloudflare/);
            assert.equal(server!.exec("readlink", "/etc/letsencrypt").trim(), "/srv/family-data/letsencrypt");
            assert.equal(server!.exec("systemctl", "is-enabled", "certbot.timer").trim(), "enabled");
            assert.equal(
                server!.exec("stat", "-c", "%a %U", "/etc/family-xmpp/cloudflare.ini").trim(),
                "600 root",
            );
            assert.equal(
                server!.exec("cat", "/etc/family-xmpp/cloudflare.ini"),
                "dns_cloudflare_api_token = cf-token-family-acme-token\n",
            );
            assert.doesNotMatch(server!.exec("cat", "/var/log/cloud-init-output.log"), /cf-token-/);
        },
    );

    it(
        "patches itself: unattended upgrades from Debian 13's security archive, daily, " +
            "apt retrying the mirror; SSH by key only",
        () => {
            assert.match(server!.exec("cat", "/etc/os-release"), /^VERSION_CODENAME=trixie$/m);
            assert.equal(
                server!.exec("systemctl", "is-enabled", "apt-daily-upgrade.timer").trim(),
                "enabled",
            );
            assert.match(server!.exec("apt-config", "dump", "APT::Periodic"), /Unattended-Upgrade "1";/);
            assert.match(server!.exec("apt-config", "dump", "Acquire::Retries"), /^Acquire::Retries "10";$/m);
            const dryRun = server!.exec("sh", "-c", "unattended-upgrade --dry-run --debug 2>&1");
            assert.match(dryRun, /Allowed origins are: .*codename=trixie-security,label=Debian-Security/);
            const sshd = server!.exec("sshd", "-T");
            assert.match(sshd, /^passwordauthentication no$/m);
            assert.match(sshd, /^kbdinteractiveauthentication no$/m);
            assert.match(sshd, /^permitrootlogin without-password$/m);
        },
    );

    it(
        "serves the test CA's certificate, imported by certbot's deploy hook, " +
            "for every name the family uses",
        () => {
            for (const name of certificateNames(familyModel(FAMILY))) {
                const probe = spawnSync(
                    "openssl",
                    [
                        "s_client",
                        "-starttls",
                        "xmpp",
                        "-xmpphost",
                        DOMAIN,
                        "-connect",
                        `${XMPP.host}:${XMPP.port}`,
                        "-verify_return_error",
                        "-verify_hostname",
                        name,
                        "-CAfile",
                        join(workDir, "ca.crt"),
                    ],
                    { input: "", encoding: "utf8", timeout: 20_000 },
                );
                assert.match(probe.stdout, /Verify return code: 0 \(ok\)/, `${name}: ${probe.stderr}`);
            }
        },
    );

    it("publishes records that point at the booted server's address", () => {
        const zone = String(firstRun.outputs.zoneFile.value);
        const addresses = zone
            .split("\n")
            .filter((line) => /\tIN\tA\t/.test(line))
            .map((line) => line.split("\t")[4]);
        assert.deepEqual(addresses, [
            NetworkLab.SERVER_ADDRESS,
            NetworkLab.SERVER_ADDRESS,
            NetworkLab.SERVER_ADDRESS,
        ]);
        assert.match(
            server!.exec("ip", "-4", "-o", "addr", "show"),
            new RegExp(`inet ${NetworkLab.SERVER_ADDRESS.replace(/\./g, "\\.")}/24`),
        );
    });

    it(
        "passes the post-deploy check from outside (npm run check): records, certificate, ports, a login; " +
            "and names a port that closes",
        () =>
            withDiagnostics(async () => {
                const zone = String(firstRun.outputs.zoneFile.value);
                const dns = await startAuthoritativeDns(DOMAIN, zone, 25353 + (process.pid % 1000));
                try {
                    const options = {
                        model: familyModel(FAMILY),
                        addresses: {
                            ipv4: NetworkLab.SERVER_ADDRESS,
                            ipv6: String(firstRun.outputs.ipv6.value),
                        },
                        resolver: `127.0.0.1:${dns.port}`,
                        credentials: passwordsOf(firstRun),
                        extraCaCertificates: [caCertificate],
                    };
                    const report = await runCheck(options);
                    // This family has no backup yet (it gets one later): the check says so, as a warning.
                    assert.deepEqual(
                        report.results.filter((r) => r.status !== "ok").map((r) => `${r.name}: ${r.detail}`),
                        ["the last good backup: backups are off (backup: false): nothing is backed up"],
                    );
                    assert.ok(report.results.some((r) => r.name === "a member logs in" && r.status === "ok"));
                    server!.exec("systemctl", "stop", "coturn");
                    try {
                        const closed = await runCheck(options);
                        assert.equal(closed.ok, false);
                        assert.ok(
                            closed.results.some(
                                (r) => r.status === "fail" && r.name.startsWith("port 3478/"),
                            ),
                            JSON.stringify(closed.results),
                        );
                    } finally {
                        server!.exec("systemctl", "start", "coturn");
                    }
                } finally {
                    dns.stop();
                }
            }),
    );

    it("lets members log in, shows each their group, delivers and archives a message", async () => {
        const anna = await timed("first login", () => member("anna", firstRun, "phone"));
        assert.deepEqual(
            (await anna.roster())
                .map((item) => `${item.jid} ${item.subscription} ${item.groups.join()}`)
                .sort(),
            [`${jid("bo")} both Family`, `${jid("åsa")} both Family`],
        );
        assert.deepEqual(await rosterOf("dora", firstRun, "laptop"), []);
        const åsa = await member("åsa", firstRun, "tablet");
        await åsa.xmpp.send(xml("presence"));
        await anna.xmpp.send(
            xml("message", { to: jid("åsa"), type: "chat" }, xml("body", {}, "Middag på söndag?")),
        );
        const received = await åsa.waitFor(
            (s) => s.is("message") && s.getChildText("body") !== null,
            "Anna's message",
        );
        assert.equal(received.getChildText("body"), "Middag på söndag?");
        assert.ok((await anna.archivedBodies()).includes("Middag på söndag?"));
        // The family room exists from the first boot on, with the group as its members.
        assert.equal((await anna.joinRoom("family@conference.family.test", "Anna")).attrs.type, undefined);
        await anna.xmpp.send(
            xml(
                "message",
                { to: "family@conference.family.test", type: "groupchat" },
                xml("body", {}, "Hej allihop!"),
            ),
        );
        await anna.waitFor(
            (s) =>
                s.is("message") && s.attrs.type === "groupchat" && s.getChildText("body") === "Hej allihop!",
            "the room's echo",
        );
        await anna.stop();
        await åsa.stop();
    });

    it("shares files over HTTPS on port 443 with the imported certificate", () =>
        withDiagnostics(async () => {
            const anna = await member("anna", firstRun, "upload");
            const file = Buffer.from("Farmors recept på kanelbullar\n".repeat(1000));
            const slot = (
                await anna.xmpp.iqCaller.request(
                    xml(
                        "iq",
                        { type: "get", to: `upload.${DOMAIN}` },
                        xml("request", {
                            xmlns: "urn:xmpp:http:upload:0",
                            filename: "kanelbullar.txt",
                            size: String(file.length),
                            "content-type": "text/plain",
                        }),
                    ),
                )
            ).getChild("slot");
            const put = slot?.getChild("put");
            assert.match(put?.attrs.url ?? "", /^https:\/\/upload\.family\.test\/file_share\//);
            const headers = Object.fromEntries(
                (put?.getChildren("header") ?? []).map((header) => [header.attrs.name ?? "", header.text()]),
            );
            assert.equal(
                (
                    await httpsAt(XMPP.host, put?.attrs.url ?? "", "PUT", file, {
                        "content-type": "text/plain",
                        ...headers,
                    })
                ).status,
                201,
            );
            const back = await httpsAt(XMPP.host, slot?.getChild("get")?.attrs.url ?? "", "GET");
            assert.ok(back.body.equals(file), "the file came back different");
            sharedFile = { url: slot?.getChild("get")?.attrs.url ?? "", content: file };
            await anna.stop();
        }));

    it(
        "relays calls with the credentials Prosody hands out, " +
            "over UDP, TCP and TLS with the imported certificate",
        () =>
            withDiagnostics(async () => {
                assert.equal(
                    server!.exec("stat", "-c", "%a %U %G", "/etc/turnserver.conf").trim(),
                    "640 root turnserver",
                );
                assert.equal(
                    server!.exec("stat", "-c", "%a %U %G", "/etc/prosody/secrets.d/calls.cfg.lua").trim(),
                    "640 root prosody",
                );
                assert.equal(server!.exec("systemctl", "is-enabled", "coturn").trim(), "enabled");
                const anna = await member("anna", firstRun, "call");
                const services = await externalServices(anna, DOMAIN);
                await anna.stop();
                const turn = turnService(services, "udp");
                assert.equal(turn.host, "xmpp.family.test");
                const attempt = {
                    server: NetworkLab.SERVER_ADDRESS,
                    username: turn.username ?? "",
                    password: turn.password ?? "",
                    peer: NetworkLab.PEER_ADDRESS,
                };
                for (const [transport, port] of [
                    ["udp", 3478],
                    ["tcp", 3478],
                    ["tls", 5349],
                ] as const) {
                    const result = await relayThrough({
                        ...attempt,
                        transport,
                        port,
                        caFile: join(workDir, "ca.crt"),
                        tlsName: "xmpp.family.test",
                    });
                    assert.equal(result.echoed, RELAY_MESSAGES, `${transport}: ${result.output}`);
                }
                const intoThePrivateNetwork = await relayThrough({
                    ...attempt,
                    transport: "udp",
                    port: 3478,
                    peer: NetworkLab.HOST_ADDRESS,
                });
                assert.match(intoThePrivateNetwork.output, /403 \(Forbidden IP\)/);
            }),
    );

    it(
        "welcomes a member with the link the welcome step printed: its page over HTTPS with the " +
            "certificate, its QR code, a password chosen in an app, the link then used up",
        async (t) => {
            const missing = missingTools(WELCOME_TOOLS);
            if (missing) return t.skip(missing);
            const url = (stepOutputs.get("family-welcome-dora") ?? "").trim();
            assert.match(url, /^https:\/\/xmpp\.family\.test\/welcome\?/);
            mkdirSync(LAST_RUN_DIR, { recursive: true });
            await checkWelcomeLink({
                address: NetworkLab.SERVER_ADDRESS,
                caFile: join(workDir, "ca.crt"),
                url,
                jid: jid("dora"),
                xmpp: XMPP,
                screenshotFile: join(LAST_RUN_DIR, "welcome-page.png"),
            });
        },
    );

    it("refuses in-band registration", async () => {
        const stream = await RawStream.open(XMPP.port, DOMAIN, XMPP.host);
        try {
            await stream.startTls();
            stream.send(
                "<iq type='set' id='reg1'><query xmlns='jabber:iq:register'>" +
                    "<username>mallory</username><password>Secret-123</password></query></iq>",
            );
            assert.match(
                await stream.waitFor(
                    /<iq[^>]*id=['"]reg1['"][\s\S]*?(<\/iq>|\/>)/,
                    "a reply to the registration",
                ),
                /type=['"]error['"]/,
            );
        } finally {
            stream.close();
        }
    });

    it(
        "applies a family change over SSH without rebooting or re-running cloud-init, " +
            "and every roster follows",
        async () => {
            const bootId = server!.exec("cat", "/proc/sys/kernel/random/boot_id");
            const firstBootFinished = server!.exec(
                "stat",
                "-c",
                "%Y",
                "/var/lib/cloud/instance/boot-finished",
            );
            const planned = plannedRuns(firstRun, changedRun);
            assert.deepEqual(planned.map((p) => `${p.why} ${p.step.name}`).sort(), [
                "create family-account-erik",
                "create family-welcome-erik",
                "update family-files",
            ]);
            await timed("family change over SSH", () =>
                withDiagnostics(async () => {
                    for (const { step, script } of planned) ssh.runStep(step, script);
                }),
            );
            assert.equal(server!.exec("cat", "/proc/sys/kernel/random/boot_id"), bootId);
            assert.equal(
                server!.exec("stat", "-c", "%Y", "/var/lib/cloud/instance/boot-finished"),
                firstBootFinished,
            );
            assert.deepEqual(await rosterOf("anna", changedRun, "after-change"), [
                `${jid("erik")} (Family)`,
                `${jid("åsa")} (Family)`,
            ]);
            assert.deepEqual(await rosterOf("bo", changedRun, "after-change"), [`${jid("dora")} (Cousins)`]);
            assert.deepEqual(await rosterOf("erik", changedRun, "after-change"), [
                `${jid("anna")} (Family)`,
                `${jid("åsa")} (Family)`,
            ]);
        },
    );

    it(
        "rebuilds from the data volume: a fresh root filesystem, the same user data, " +
            "Prosody's files made its own again, and accounts, rosters and history survive",
        async () => {
            await server!.stop();
            server!.removeRoot();
            giveProsodyDataToAnotherUserNumber();
            rebuiltRun = runStack(CHANGED_FAMILY, {
                ...stackEnvironment,
                FAMILY_XMPP_TEST_SERVER_GENERATION: "rebuilt",
            });
            const planned = plannedRuns(changedRun, rebuiltRun);
            assert.deepEqual(planned.map((p) => `${p.why} ${p.step.name}`).sort(), [
                "replace family-calls",
                "replace family-certificate",
                "replace family-dns-credentials",
                "replace family-files",
                "replace family-first-boot",
            ]);

            const cachedBefore = cachedPackages();
            await timed("rebuild: boot to cloud-init done", async () => {
                server = await bootServer("fxboot2", "family-xmpp-boot-2");
                await withDiagnostics(() => waitForFirstBoot(server!));
            });
            countPackages("rebuild", server!, cachedBefore);
            await withDiagnostics(async () => {
                for (const { step, script } of planned) runOrStandIn(step, script);
            });

            assert.deepEqual(await rosterOf("anna", changedRun, "after-rebuild"), [
                `${jid("erik")} (Family)`,
                `${jid("åsa")} (Family)`,
            ]);
            assert.deepEqual(await rosterOf("bo", changedRun, "after-rebuild"), [`${jid("dora")} (Cousins)`]);
            assert.equal(
                server!.exec(
                    "find",
                    PRODUCTION_HOST.paths.dataPath,
                    "(",
                    "!",
                    "-user",
                    "prosody",
                    "-o",
                    "!",
                    "-group",
                    "prosody",
                    ")",
                ),
                "",
                "files on the volume that the new server's prosody user does not own",
            );
            // The certificate came back from the volume: the fresh system disk never saw it.
            assert.equal(
                server!.exec("readlink", "-f", `/etc/letsencrypt/live/${DOMAIN}/fullchain.pem`).trim(),
                `/srv/family-data/letsencrypt/live/${DOMAIN}/fullchain.pem`,
            );
            const anna = await member("anna", changedRun, "after-rebuild-archive");
            assert.ok(
                (await anna.archivedBodies()).includes("Middag på söndag?"),
                "the message archive did not survive the rebuild",
            );
            assert.ok(
                (await anna.archivedBodies("family@conference.family.test")).includes("Hej allihop!"),
                "the family room's history did not survive the rebuild",
            );
            // Calls work again: the calls step brought the secret to the new server.
            const turn = turnService(await externalServices(anna, DOMAIN), "udp");
            const relayed = await relayThrough({
                server: NetworkLab.SERVER_ADDRESS,
                port: 3478,
                transport: "udp",
                username: turn.username ?? "",
                password: turn.password ?? "",
                peer: NetworkLab.PEER_ADDRESS,
            });
            assert.equal(relayed.echoed, RELAY_MESSAGES, relayed.output);
            await anna.stop();
        },
    );

    it(
        "backs up every night to an SFTP server off the server (its own network namespace), " +
            "through the backup step the program adds",
        async () => {
            sftpServer = new SftpServer(workDir);
            storageBoxKey = sftpServer.up();
            backedUpRun = runStack(backedUpConfig(), {
                ...stackEnvironment,
                FAMILY_XMPP_TEST_SERVER_GENERATION: "rebuilt",
            });
            const planned = plannedRuns(rebuiltRun, backedUpRun);
            assert.deepEqual(planned.map((p) => `${p.why} ${p.step.name}`).sort(), [
                "create family-backup",
                "update family-files",
            ]);
            await withDiagnostics(async () => {
                for (const { step, script } of planned) {
                    const output = ssh.runStep(step, script);
                    if (step.name === "family-backup") assert.match(output, /made the repository/);
                }
            });
            for (const timer of ["family-xmpp-backup.timer", "family-xmpp-backup-alert.timer"])
                assert.equal(server!.exec("systemctl", "is-enabled", timer).trim(), "enabled", timer);
            assert.equal(
                server!.exec("stat", "-c", "%a %U", "/etc/family-xmpp/backup/password").trim(),
                "600 root",
            );
            const { result: backup, closedSeconds } = await timed("backup: first run", () =>
                whileWatchingTheAppPort(() =>
                    ssh.run("systemctl start family-xmpp-backup && journalctl -u family-xmpp-backup -o cat"),
                ),
            );
            assert.equal(backup.status, 0, backup.stderr);
            const pause = /Prosody paused for (\d+) ms/.exec(backup.stdout);
            assert.ok(pause, backup.stdout);
            timings["backup: Prosody stopped to started, as the script saw it (s)"] = Number(pause[1]) / 1000;
            // Prosody really stopped for the copy (no file half written), and not for long.
            assert.ok(closedSeconds > 0, "port 5222 never closed: Prosody was not stopped for the copy");
            timings["backup: port 5222 closed to apps (s)"] = closedSeconds;
            assert.match(server!.exec("cat", "/var/lib/family-xmpp/backup-status"), /^result=ok$/m);
            assert.equal(server!.exec("systemctl", "is-active", "prosody").trim(), "active");
            assert.equal(resticOnHost("check", "--no-lock").status, 0, "restic check of the SFTP repository");
            const age = await backupAge();
            assert.equal(age.status, "ok", age.detail);
        },
    );

    it("fails loudly with a wrong repository password, and the check sees it", async () => {
        const password = "/etc/family-xmpp/backup/password";
        const right = server!.exec("cat", password);
        server!.exec("sh", "-c", `echo wrongpassword >${password}`);
        try {
            const backup = ssh.run("family-xmpp-backup");
            assert.notEqual(backup.status, 0);
            assert.match(backup.stderr, /the backup FAILED: .*wrong password/);
            const age = await backupAge();
            assert.equal(age.status, "warn", age.detail);
            assert.match(age.detail, /the last attempt failed: .*wrong password/);
        } finally {
            server!.exec("sh", "-c", `printf '%s' '${right}' >${password}`);
        }
    });

    it("keeps the repository usable when a backup is killed during its upload", async () => {
        const shared = `${PRODUCTION_HOST.paths.dataPath}/upload%2efamily%2etest/http_file_share`;
        server!.exec("sh", "-c", `head -c 150000000 /dev/urandom >${shared}/interrupted.bin`);
        const started = server!.start("family-xmpp-backup");
        let killed = false;
        for (let i = 0; i < 300 && !killed && started.exitCode === null; i++) {
            await new Promise((done) => setTimeout(done, 100));
            const uploading = server!.tryExec("pgrep", "-f", "restic .* backup --host").stdout.trim();
            if (uploading) {
                await new Promise((done) => setTimeout(done, 500));
                server!.tryExec("kill", "-KILL", ...uploading.split("\n"));
                killed = true;
            }
        }
        if (started.exitCode === null) await new Promise((done) => started.once("exit", done));
        assert.ok(killed, "restic's upload was never seen");
        assert.match(server!.exec("cat", "/var/lib/family-xmpp/backup-status"), /^result=failed$/m);
        assert.equal(server!.exec("systemctl", "is-active", "prosody").trim(), "active");
        assert.equal(resticOnHost("check", "--no-lock").status, 0, "restic check after the kill");
        server!.exec("rm", `${shared}/interrupted.bin`);
        const again = ssh.run("family-xmpp-backup");
        assert.equal(again.status, 0, again.stderr);
        assert.equal(resticOnHost("check", "--no-lock").status, 0, "restic check after the next backup");
    });

    it(
        "restores the family onto a new server with an empty volume: logins, contacts, history, " +
            "a room's history, a shared file and the certificate",
        async () => {
            const certificateBefore = server!.exec("cat", `/etc/letsencrypt/live/${DOMAIN}/fullchain.pem`);
            await server!.stop();
            server!.removeRoot();
            replaceVolumeWithAnEmptyOne();
            restoredRun = runStack(backedUpConfig(), {
                ...stackEnvironment,
                FAMILY_XMPP_TEST_SERVER_GENERATION: "restored",
            });
            const planned = plannedRuns(backedUpRun, restoredRun);
            await timed("restore: boot to cloud-init done", async () => {
                server = await bootServer("fxboot3", "family-xmpp-boot-3");
                await withDiagnostics(() => waitForFirstBoot(server!));
            });
            // pulumi up on the new server, then the restore (README: "Restoring"); the certificate
            // step last, so that the test's stand-in for Let's Encrypt finds the restored one.
            await withDiagnostics(async () => {
                for (const { step, script } of planned.filter((p) => p.step.name !== "family-certificate"))
                    ssh.runStep(step, script);
            });
            const restore = await timed("restore: family-xmpp-restore", () => ssh.run("family-xmpp-restore"));
            assert.equal(restore.status, 0, restore.stderr);
            assert.match(restore.stdout, /restored latest/);
            assert.equal(
                server!.exec("cat", `/etc/letsencrypt/live/${DOMAIN}/fullchain.pem`),
                certificateBefore,
                "the certificate did not come back",
            );
            await withDiagnostics(async () => {
                for (const { step, script } of planned.filter((p) => p.step.name === "family-certificate"))
                    runOrStandIn(step, script);
            });

            assert.deepEqual(await rosterOf("anna", changedRun, "after-restore"), [
                `${jid("erik")} (Family)`,
                `${jid("åsa")} (Family)`,
            ]);
            const anna = await member("anna", changedRun, "after-restore-archive");
            assert.ok((await anna.archivedBodies()).includes("Middag på söndag?"), "anna's history");
            assert.ok(
                (await anna.archivedBodies("family@conference.family.test")).includes("Hej allihop!"),
                "the family room's history",
            );
            await anna.stop();
            assert.ok(sharedFile, "no file was shared earlier");
            const back = await httpsAt(XMPP.host, sharedFile.url, "GET");
            assert.ok(back.body.equals(sharedFile.content), "the shared file came back different");
        },
    );

    it("backs up to an S3-compatible server just as well (s3rver over HTTPS)", async () => {
        const s3 = await startS3Server(
            join(workDir, "s3"),
            9000,
            "family",
            SftpServer.ADDRESS,
            SftpServer.NAMESPACE,
        );
        s3Stop = s3.stop;
        // A provider's certificate is one the server's CAs trust; s3rver's own is made so here.
        copyFileSync(s3.certificateFile, join(server!.root, "usr/local/share/ca-certificates/s3rver.crt"));
        server!.exec("update-ca-certificates");
        const repository = `s3:https://${SftpServer.ADDRESS}:9000/family/family-xmpp`;
        const s3Run = runStack(
            {
                ...CHANGED_FAMILY,
                backup: { repository },
                backupS3AccessKeyId: s3.accessKeyId,
                backupS3SecretAccessKey: s3.secretAccessKey,
            },
            { ...stackEnvironment, FAMILY_XMPP_TEST_SERVER_GENERATION: "restored" },
        );
        const planned = plannedRuns(restoredRun, s3Run);
        assert.deepEqual(
            planned.map((p) => `${p.why} ${p.step.name}`),
            ["update family-backup"],
        );
        for (const { step, script } of planned)
            assert.match(ssh.runStep(step, script), /made the repository/);
        assert.equal(server!.tryExec("test", "-e", "/etc/family-xmpp/backup/ssh-key").status, 1);
        const backup = ssh.run("family-xmpp-backup");
        assert.equal(backup.status, 0, backup.stderr);
        assert.match(server!.exec("cat", "/var/lib/family-xmpp/backup-status"), /^result=ok$/m);
        const check = spawnSync(
            join(server!.root, "usr", "bin", "restic"),
            ["-r", repository, "check", "--no-lock"],
            {
                encoding: "utf8",
                env: {
                    ...process.env,
                    AWS_ACCESS_KEY_ID: s3.accessKeyId,
                    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
                    SSL_CERT_FILE: s3.certificateFile,
                    RESTIC_PASSWORD: resticPassword(),
                    RESTIC_CACHE_DIR: join(workDir, "restic-cache"),
                },
            },
        );
        assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    });
});

/** The program's config for the family once it backs up to the test's SFTP server. */
function backedUpConfig(): Record<string, unknown> {
    return {
        ...CHANGED_FAMILY,
        backup: { repository: `sftp:root@${SftpServer.ADDRESS}:${sftpServer!.storageDir}/family` },
        backupSshKey: storageBoxKey,
    };
}

/**
 * `work` while a watcher on the host tries the app port every 50 ms (a process of its own: `work`
 * blocks this one); returns its result and the longest time the port refused connections.
 */
function whileWatchingTheAppPort<T>(work: () => T): { result: T; closedSeconds: number } {
    const log = join(workDir, "port-watch.log");
    const probe = `timeout 0.5 bash -c '</dev/tcp/${XMPP.host}/${XMPP.port}' 2>/dev/null`;
    const watcher = spawn(
        "bash",
        [
            "-c",
            `while :; do if ${probe}; then s=up; else s=down; fi; ` +
                `echo "$(date +%s%N) $s"; sleep 0.05; done >${log}`,
        ],
        { stdio: "ignore", detached: true },
    );
    let result: T;
    try {
        result = work();
    } finally {
        process.kill(-(watcher.pid ?? 0), "SIGKILL");
    }
    let longest = 0;
    let downSince: number | undefined;
    for (const line of readFileSync(log, "utf8").trim().split("\n")) {
        const [time, state] = line.split(" ");
        const seconds = Number(time) / 1e9;
        if (state === "down" && downSince === undefined) downSince = seconds;
        if (state === "up" && downSince !== undefined) {
            longest = Math.max(longest, seconds - downSince);
            downSince = undefined;
        }
    }
    return { result, closedSeconds: Math.round(longest * 100) / 100 };
}

/** What `npm run check` says of the backup's age, asking the booted server as anna. */
function backupAge(): Promise<CheckResult> {
    return checkBackup(
        {
            model: familyModel(backedUpConfig()),
            addresses: { ipv4: NetworkLab.SERVER_ADDRESS, ipv6: "::1" },
            credentials: passwordsOf(changedRun),
            extraCaCertificates: [caCertificate],
        },
        NetworkLab.SERVER_ADDRESS,
        PRODUCTION_PORTS,
    );
}

/**
 * restic straight on the SFTP server's folder, with the stack's password: the server's own restic
 * (Debian 13's, whose repository format Debian 12's cannot read), run from the host.
 */
function resticOnHost(...args: string[]) {
    const passwordFile = join(workDir, "repository-password");
    writeFileSync(passwordFile, `${resticPassword()}\n`, { mode: 0o600 });
    const restic = join(server!.root, "usr", "bin", "restic");
    return spawnSync(restic, ["-r", join(sftpServer!.storageDir, "family"), "-p", passwordFile, ...args], {
        encoding: "utf8",
        env: { ...process.env, RESTIC_CACHE_DIR: join(workDir, "restic-cache") },
    });
}

/** The repository's password, as the backup step hands it to the server (first line of its stdin). */
function resticPassword(): string {
    const step = provisioningSteps(backedUpRun).find((s) => s.name === "family-backup");
    return (step?.stdin ?? "").split("\n")[0];
}

/** A new, empty Hetzner volume in place of the old one (which is lost), at the same device. */
function replaceVolumeWithAnEmptyOne(): void {
    const volumeImage = join(workDir, "volume.img");
    run("losetup", ["-d", loopDevice ?? ""]);
    rmSync(volumeImage);
    run("truncate", ["-s", "1G", volumeImage]);
    run("mkfs.ext4", ["-q", "-F", volumeImage]);
    loopDevice = run("losetup", ["--find", "--show", volumeImage]).trim();
}

/**
 * Runs a provisioning step as captured, except the certificate step: Let's Encrypt cannot be
 * reached from here, so the test puts a certificate signed by its own CA where certbot keeps its
 * own (on first boot; a rebuilt server finds it on the volume), then runs the step's last act,
 * certbot's deploy hook, exactly as rendered.
 */
function runOrStandIn(step: ProvisioningStep, script: string): void {
    if (step.name !== "family-certificate") {
        stepOutputs.set(step.name, ssh.runStep(step, script));
        return;
    }
    const live = `/etc/letsencrypt/live/${DOMAIN}`;
    if (server!.tryExec("test", "-s", `${live}/fullchain.pem`).status !== 0) {
        const certificate = readFileSync(join(workDir, "certs", `${DOMAIN}.crt`), "utf8");
        const key = readFileSync(join(workDir, "certs", `${DOMAIN}.key`), "utf8");
        server!.exec(
            "sh",
            "-c",
            [
                "set -eu",
                `install -d -m 0700 ${live}`,
                `printf '%s' '${certificate}' > ${live}/fullchain.pem`,
                `(umask 077 && printf '%s' '${key}' > ${live}/privkey.pem)`,
            ].join("\n"),
        );
    }
    ssh.runStep(step, IMPORT_HOOK);
}

/**
 * What a server replaced for a new image meets (Debian 12 to 13): the volume's Prosody files
 * belong to the user number the old system gave its prosody user, which the new one may give
 * nobody, or someone else. Done on the host while no container has the volume mounted.
 */
function giveProsodyDataToAnotherUserNumber(): void {
    const mountPoint = join(workDir, "volume");
    mkdirSync(mountPoint, { recursive: true });
    run("mount", [loopDevice ?? "", mountPoint]);
    try {
        run("chown", [
            "-R",
            "4242:4242",
            join(mountPoint, relative(DATA_MOUNT, PRODUCTION_HOST.paths.dataPath)),
        ]);
    } finally {
        run("umount", [mountPoint]);
    }
}

/** `systemctl is-system-running`, once the system has left its start-up states. */
async function systemState(container: BootedContainer): Promise<string> {
    let state = "";
    for (let i = 0; i < 60; i++) {
        state = container.tryExec("systemctl", "is-system-running").stdout.trim();
        if (state !== "starting" && state !== "initializing") return state;
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return state;
}
