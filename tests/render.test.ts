import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockList, isIPv4 } from "node:net";
import { describe, it } from "node:test";
import {
    certificateNames,
    renderImportHook,
    renderObtainCertificate,
    renderStoreDnsCredentials,
} from "../render/certificates";
import { HETZNER_USER_DATA_LIMIT, hetznerVolumeDevice, renderCloudInit } from "../render/cloud-init";
import {
    DENIED_PEER_RANGES,
    renderProsodyCallSettings,
    renderSyncCallSecret,
    renderTurnServerConfig,
} from "../render/calls";
import { renderFirewallRules } from "../render/firewall";
import { PRODUCTION_HOST } from "../render/layout";
import { LIST_LIMITS } from "../model/known-values";
import { renderGroupsFile, renderProsodyConfig } from "../render/prosody";
import { renderDisableAccount, renderEnsureAccount, renderEraseAccount } from "../render/accounts";
import { renderSyncFamilyFiles, renderWaitForCloudInit } from "../render/provisioning";
import { familyRooms, renderFamilyFile } from "../render/rooms";
import { APT_RETRIES_FILE, renderServerFamilyFiles, renderServerFiles } from "../render/server-files";
import { renderWelcomeLink, renderWelcomePage } from "../render/welcome";
import { dump, load } from "js-yaml";
import { readCloudConfig } from "./support/cloud-config";
import { devFamily, familyModel } from "./support/families";
import { hasTool } from "./support/tools";
import { rawConfigFromStackFile } from "../model/stack-config";
import {
    renderBackupAlertScript,
    renderBackupScript,
    renderRemoveBackup,
    renderRestoreScript,
    renderSyncBackup,
} from "../render/backup";

const GOLDEN_DIR = join(__dirname, "golden");
const DEPLOY_KEY =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHC+cRYnckoH99E58M9oEnVJuT1/tqi0uys6337/4NwG family-xmpp-deploy";
const VOLUME_DEVICE = hetznerVolumeDevice("100200300");
/** The server's public addresses, as Hetzner assigns them: an IPv4 address and a /64. */
const ADDRESSES = { ipv4: "5.75.128.10", ipv6: "2a01:4f8:1c1c:abcd::/64" };

function matchesGolden(name: string, actual: string): void {
    const file = join(GOLDEN_DIR, name);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, actual);
    assert.equal(
        actual,
        readFileSync(file, "utf8"),
        `${name} differs from tests/golden (UPDATE_GOLDEN=1 npm test rewrites it after a deliberate change)`,
    );
}

describe("the Prosody config", () => {
    const config = renderProsodyConfig(devFamily(), PRODUCTION_HOST);

    it("serves the family's domain", () => {
        assert.match(config, /^VirtualHost "johansson\.example"$/m);
    });

    it("requires TLS from apps and from other servers, which must present valid certificates", () => {
        assert.match(config, /^c2s_require_encryption = true$/m);
        assert.match(config, /^s2s_require_encryption = true$/m);
        assert.match(config, /^s2s_secure_auth = true$/m);
    });

    it("closes in-band registration to everything but welcome links", () => {
        assert.match(config, /^allow_registration = false$/m);
        assert.match(config, /^registration_invite_only = true$/m);
        assert.match(
            config,
            /"invites"; "invites_register"; "invites_page"; "register_apps"; "http_libjs"; "family_welcome";/,
        );
    });

    it("serves welcome pages on the server's own name, which the certificate covers, not the domain", () => {
        const host = /^VirtualHost "johansson\.example"\n([\s\S]*?)\n\n/m.exec(config)?.[1] ?? "";
        assert.match(host, /^ {4}http_host = "xmpp\.johansson\.example"$/m);
        assert.match(host, /^ {4}http_external_url = "https:\/\/xmpp\.johansson\.example\/"$/m);
        assert.match(host, /^ {8}invites_page = "\/welcome";$/m);
        assert.match(host, /^ {8}family_welcome = "\/register";$/m);
        assert.ok(certificateNames(devFamily()).includes("xmpp.johansson.example"));
    });

    it("makes the admin members Prosody admins", () => {
        assert.match(config, /^admins = \{ "pappa@johansson\.example", "mamma@johansson\.example" \}$/m);
    });

    it("keeps its data on the volume and loads the shared roster", () => {
        assert.match(config, /^data_path = "\/srv\/family-data\/prosody"$/m);
        assert.match(config, /^groups_file = "\/etc\/prosody\/family-groups\.txt"$/m);
        assert.match(config, /"groups";/);
    });

    it("keeps every member's block list in memory, however many members the config allows", () => {
        // Prosody's default of 256 sent presences to disk for the lists of a larger group.
        const size = Number(/^blocklist_cache_size = (\d+)$/m.exec(config)?.[1]);
        assert.ok(size >= LIST_LIMITS.members.most, `blocklist_cache_size ${size}`);
    });

    it("collects garbage in short, frequent young collections", () => {
        // Each young collection stops the server for a time that grows with what it frees; after
        // Prosody's default of 20 % growth it held messages for 100 ms with 500 members online.
        const gc = /^gc = \{ mode = "generational", minor_threshold = (\d+) \}$/m.exec(config);
        assert.ok(gc, "gc line");
        assert.ok(Number(gc[1]) <= 5, `minor_threshold ${gc[1]}`);
    });

    it("keeps history as long as the config says, and forever as Prosody's never", () => {
        assert.match(config, /^archive_expires_after = "1y"$/m);
        const forever = renderProsodyConfig({ ...devFamily(), archiveRetention: "forever" }, PRODUCTION_HOST);
        assert.match(forever, /^archive_expires_after = "never"$/m);
    });

    it("serves shared files over HTTPS on 443, expiring with the history", () => {
        assert.match(config, /^https_ports = \{ 443 \}$/m);
        assert.match(config, /^http_ports = \{ \}$/m);
        assert.match(config, /^Component "upload\.johansson\.example" "http_file_share"$/m);
        assert.match(config, /^ {4}http_file_share_size_limit = 104857600$/m);
        assert.match(config, /^ {4}http_file_share_expires_after = 31536000$/m);
    });

    it("names the admins as the server's contacts (XEP-0157)", () => {
        assert.match(
            config,
            /^ {4}admin = \{ "xmpp:pappa@johansson\.example", "xmpp:mamma@johansson\.example" \};$/m,
        );
    });

    it("with federation on, lets other servers in over STARTTLS and direct TLS, and reaches them all", () => {
        assert.match(config, /^s2s_ports = \{ 5269 \}$/m);
        assert.match(config, /^s2s_direct_tls_ports = \{ 5270 \}$/m);
        assert.doesNotMatch(config, /"family_federation";|family_push_gateways/);
        // Both directions over one connection where the peer can; dialback only as a fallback.
        assert.match(config, /^ {4}"s2s_bidi"; "dialback";$/m);
    });

    it("with federation off, lets no other server in and reaches only the push gateways", () => {
        const closed = renderProsodyConfig(
            { ...devFamily(), federation: false, pushGateways: ["p2.siacs.eu", "push.example.net"] },
            PRODUCTION_HOST,
        );
        assert.match(closed, /^s2s_ports = \{ \}$/m);
        assert.match(closed, /^s2s_direct_tls_ports = \{ \}$/m);
        assert.match(closed, /^ {4}"family_federation";$/m);
        assert.match(
            closed,
            /^family_push_gateways = \{\n {4}"p2\.siacs\.eu";\n {4}"push\.example\.net";\n\}$/m,
        );
    });

    it("looks other servers up through the system's resolver, with no zone of its own on the VPS", () => {
        assert.doesNotMatch(config, /^unbound = /m);
        const lab = renderProsodyConfig(devFamily(), {
            ...PRODUCTION_HOST,
            resolver: { specialUseZone: "test." },
        });
        assert.match(lab, /^unbound = \{ options = \{ \["local-zone:"\] = "test\. transparent" \} \}$/m);
    });

    it("leaves no placeholder unfilled", () => {
        assert.doesNotMatch(config, /\{\{ [A-Z_]+ \}\}/);
    });

    it("is valid Lua, as Prosody reads it, with federation on and off", (t) => {
        if (!hasTool(t, "luac5.4", "lua5.4")) return;
        const closed = renderProsodyConfig({ ...devFamily(), federation: false }, PRODUCTION_HOST);
        for (const text of [config, closed]) {
            const file = join(mkdtempSync(join(tmpdir(), "prosody-cfg-")), "prosody.cfg.lua");
            // Prosody's config syntax is Lua with two statements of its own; luac checks the rest.
            writeFileSync(file, text.replace(/^VirtualHost .*$/m, "").replace(/^Include .*$/m, ""));
            const result = spawnSync("luac5.4", ["-p", file], { encoding: "utf8" });
            assert.equal(result.status, 0, result.stderr);
        }
    });
});

describe("the welcome page", () => {
    it("speaks the family's language, with Prosody's placeholders for the member", () => {
        const english = renderWelcomePage(devFamily());
        assert.match(english, /<html lang="en">/);
        assert.match(english, /<h1>Choose your password<\/h1>/);
        const norwegian = renderWelcomePage({ ...devFamily(), welcome: { linkDays: 7, language: "nb" } });
        assert.match(norwegian, /<html lang="nb">/);
        assert.match(norwegian, /<h1>Velg passordet ditt<\/h1>/);
        assert.match(norwegian, /Hei \{name\}! Adressen din er <strong>\{jid\}<\/strong>/);
        assert.doesNotMatch(norwegian, /\{\{/);
    });

    it("gets how long a link lasts from the family file", () => {
        const family = JSON.parse(
            renderFamilyFile({ ...devFamily(), welcome: { linkDays: 3, language: "en" } }),
        );
        assert.deepEqual(family.welcome, { link_seconds: 3 * 86400 });
    });
});

describe("the family rooms", () => {
    it("give each group a room named after it, owned by its admins, with its members", () => {
        assert.deepEqual(familyRooms(devFamily()), [
            {
                jid: "family@conference.johansson.example",
                name: "Family",
                affiliations: {
                    "pappa@johansson.example": "owner",
                    "mamma@johansson.example": "owner",
                    "åsa@johansson.example": "member",
                    "erik@johansson.example": "member",
                },
            },
            {
                jid: "relatives@conference.johansson.example",
                name: "Relatives",
                affiliations: {
                    "pappa@johansson.example": "owner",
                    "mamma@johansson.example": "owner",
                    "sven@johansson.example": "member",
                },
            },
        ]);
    });

    it("turn any group name into a readable, unique room address", () => {
        const model = {
            ...devFamily(),
            groups: [
                { name: "Släkten & vänner", members: ["pappa"] },
                { name: "släkten vänner", members: ["erik"] },
                { name: "👪", members: ["erik"] },
            ],
        };
        assert.deepEqual(
            familyRooms(model).map((room) => room.jid.split("@")[0]),
            ["slakten-vanner", "slakten-vanner-2", "group"],
        );
    });

    it("reach the server as JSON, with each member's name and rooms for their bookmarks", () => {
        const model = {
            ...devFamily(),
            groups: [
                { name: 'Mormor\'s "gäng"', members: ["pappa", "åsa"] },
                { name: "Relatives", members: ["pappa"] },
            ],
        };
        const family = JSON.parse(renderFamilyFile(model));
        assert.equal(family.conference, "conference.johansson.example");
        assert.deepEqual(family.rooms, familyRooms(model));
        assert.deepEqual(family.members["pappa"], {
            name: "Pappa",
            rooms: ["mormor-s-gang@conference.johansson.example", "relatives@conference.johansson.example"],
        });
        assert.deepEqual(family.members["åsa"], {
            name: "Mormor Åsa",
            rooms: ["mormor-s-gang@conference.johansson.example"],
        });
        assert.deepEqual(family.members["sven"], { name: "Farbror Sven", rooms: [] });
    });
});

describe("the shared-roster groups file", () => {
    it("lists each group with its members' addresses and display names", () => {
        assert.equal(
            renderGroupsFile(devFamily()),
            [
                "[Family]",
                "pappa@johansson.example=Pappa",
                "mamma@johansson.example=Mamma",
                "åsa@johansson.example=Mormor Åsa",
                "erik@johansson.example=Erik",
                "",
                "[Relatives]",
                "pappa@johansson.example=Pappa",
                "mamma@johansson.example=Mamma",
                "sven@johansson.example=Farbror Sven",
                "",
            ].join("\n"),
        );
    });
});

describe("the cloud-init user data", () => {
    const userData = renderCloudInit(devFamily(), VOLUME_DEVICE, ADDRESSES, DEPLOY_KEY);
    const cloudConfig = readCloudConfig(userData);

    it("matches the reviewed golden copy (compressed files shown decompressed, for review)", () => {
        const readable = cloudConfig.write_files.map(({ encoding, ...file }) =>
            encoding ? { ...file, "encoding (decoded here)": encoding } : file,
        );
        const parsed = load(userData) as Record<string, unknown>;
        const document = dump({ ...parsed, write_files: readable }, { noRefs: true, lineWidth: -1 });
        matchesGolden("cloud-init.yaml", `${userData.split("\n").slice(0, 2).join("\n")}\n${document}`);
    });

    it("is the same, byte for byte, every time it is rendered", () => {
        assert.equal(renderCloudInit(devFamily(), VOLUME_DEVICE, ADDRESSES, DEPLOY_KEY), userData);
    });

    it("starts with the #cloud-config header", () => {
        assert.ok(userData.startsWith("#cloud-config\n"));
    });

    it("fits Hetzner's 32 KiB user-data limit", () => {
        assert.ok(
            Buffer.byteLength(userData) < HETZNER_USER_DATA_LIMIT,
            `${Buffer.byteLength(userData)} bytes`,
        );
    });

    it("is accepted by Debian's `cloud-init schema`", (t) => {
        if (!hasTool(t, "cloud-init", "cloud-init")) return;
        const file = join(mkdtempSync(join(tmpdir(), "cloud-init-")), "user-data.yaml");
        writeFileSync(file, userData);
        const result = spawnSync("cloud-init", ["schema", "-c", file], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stdout + result.stderr);
    });

    it("gives every file mode as a string, which cloud-init's YAML 1.1 reader keeps as octal", (t) => {
        if (!hasTool(t, "/usr/bin/python3", "python3-yaml")) return;
        const script =
            "import sys, yaml; d = yaml.safe_load(sys.stdin); " +
            "print(','.join(type(f['permissions']).__name__ for f in d['write_files']))";
        const result = spawnSync("/usr/bin/python3", ["-c", script], { input: userData, encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(new Set(result.stdout.trim().split(",")), new Set(["str"]));
    });

    it("installs Prosody and unattended security upgrades from Debian", () => {
        assert.ok(cloudConfig.packages.includes("prosody"));
        assert.ok(cloudConfig.packages.includes("unattended-upgrades"));
        const autoUpgrades = cloudConfig.write_files.find(
            (f) => f.path === "/etc/apt/apt.conf.d/20auto-upgrades",
        );
        assert.match(autoUpgrades?.content ?? "", /APT::Periodic::Unattended-Upgrade "1";/);
    });

    it("makes apt retry Debian's mirror, from the package stage of the first boot on", (t) => {
        const retries = cloudConfig.write_files.find((f) => f.path === APT_RETRIES_FILE);
        assert.ok(retries, `no ${APT_RETRIES_FILE} in the user data`);
        // Deferred files are written after the packages are installed: too late for their apt.
        assert.equal(retries.defer, undefined);
        if (!hasTool(t, "apt-config", "apt")) return;
        const file = join(mkdtempSync(join(tmpdir(), "apt-conf-")), "retries.conf");
        writeFileSync(file, retries.content);
        const read = (key: string) => {
            const result = spawnSync("apt-config", ["-c", file, "shell", "VALUE", key], { encoding: "utf8" });
            assert.equal(result.status, 0, result.stderr);
            return result.stdout.trim();
        };
        assert.equal(read("Acquire::Retries"), "VALUE='10'");
        assert.equal(read("Acquire::http::Timeout"), "VALUE='30'");
    });

    it("allows SSH by key only, root included (the deploy key)", () => {
        assert.equal(cloudConfig.ssh_pwauth, false);
        assert.equal(cloudConfig.disable_root, false);
        const sshd = cloudConfig.write_files.find((f) => f.path.startsWith("/etc/ssh/sshd_config.d/"));
        assert.match(sshd?.content ?? "", /^PasswordAuthentication no$/m);
        assert.match(sshd?.content ?? "", /^PermitRootLogin prohibit-password$/m);
    });

    it("mounts the Hetzner volume by id, without blocking boot if it is missing", () => {
        const firstBoot =
            cloudConfig.write_files.find((f) => f.path === "/usr/local/sbin/family-xmpp-first-boot")
                ?.content ?? "";
        assert.match(firstBoot, /^volume_device='\/dev\/disk\/by-id\/scsi-0HC_Volume_100200300'$/m);
        assert.match(
            firstBoot,
            /echo "\$volume_device \$data_mount ext4 discard,nofail,defaults 0 2" >>\/etc\/fstab/,
        );
    });

    it("waits for the volume, attached only after the server is created, before starting Prosody", () => {
        const firstBoot =
            cloudConfig.write_files.find((f) => f.path === "/usr/local/sbin/family-xmpp-first-boot")
                ?.content ?? "";
        assert.ok(firstBoot.indexOf("until mountpoint -q") < firstBoot.indexOf("systemctl restart prosody"));
    });

    it("makes Prosody's files on the volume its own before starting it, whoever's number wrote them", () => {
        const firstBoot =
            cloudConfig.write_files.find((f) => f.path === "/usr/local/sbin/family-xmpp-first-boot")
                ?.content ?? "";
        const chown = firstBoot.indexOf("-exec chown -h prosody:prosody {} +");
        assert.ok(chown > firstBoot.indexOf("until mountpoint -q"), "not after the volume is mounted");
        assert.ok(chown < firstBoot.indexOf("systemctl restart prosody"), "not before Prosody starts");
        assert.match(firstBoot, /^find "\$data_path" \\\( ! -user prosody -o ! -group prosody \\\) -exec/m);
    });

    it("keeps Prosody stopped unless the data volume is mounted", () => {
        const dropIn = cloudConfig.write_files.find(
            (f) => f.path === "/etc/systemd/system/prosody.service.d/family-xmpp.conf",
        );
        assert.match(dropIn?.content ?? "", /^RequiresMountsFor=\/srv\/family-data$/m);
    });

    it("writes Prosody's files after the package created their directory and group", () => {
        const prosodyFiles = cloudConfig.write_files.filter(
            (f) => f.path.startsWith("/etc/prosody/") || f.path.includes("/prosody-modules/"),
        );
        assert.deepEqual(
            prosodyFiles.map((f) => f.path),
            [
                "/etc/prosody/prosody.cfg.lua",
                "/etc/prosody/family-groups.txt",
                "/etc/prosody/family.json",
                "/usr/local/lib/family-xmpp/prosody-modules/mod_family_xmpp.lua",
                "/usr/local/lib/family-xmpp/prosody-modules/mod_family_xmpp_calls.lua",
                "/usr/local/lib/family-xmpp/prosody-modules/mod_family_xmpp_https.lua",
                "/usr/local/lib/family-xmpp/prosody-modules/mod_family_federation.lua",
                "/usr/local/lib/family-xmpp/prosody-modules/mod_family_welcome.lua",
                "/usr/local/lib/family-xmpp/prosody-modules/family_welcome.html",
            ],
        );
        for (const file of prosodyFiles) {
            assert.equal(file.defer, true, file.path);
            assert.equal(file.owner, "root:prosody");
            assert.equal(file.permissions, "0640");
        }
    });

    it("authorises the family's admin keys and the stack's deploy key for root", () => {
        const keys = cloudConfig.write_files.find((f) => f.path === "/root/.ssh/authorized_keys");
        assert.equal(keys?.permissions, "0600");
        assert.match(keys?.content ?? "", /family-xmpp-deploy$/m);
    });

    it(
        "installs certbot with its Cloudflare plugin, keeps certbot's state on the volume, " +
            "and installs the deploy hook",
        () => {
            assert.ok(
                cloudConfig.packages.includes("certbot") &&
                    cloudConfig.packages.includes("python3-certbot-dns-cloudflare"),
            );
            const firstBoot =
                cloudConfig.write_files.find((f) => f.path === "/usr/local/sbin/family-xmpp-first-boot")
                    ?.content ?? "";
            assert.match(firstBoot, /^letsencrypt_on_volume='\/srv\/family-data\/letsencrypt'$/m);
            assert.match(firstBoot, /ln -s "\$letsencrypt_on_volume" \/etc\/letsencrypt/);
            const hook = cloudConfig.write_files.find(
                (f) => f.path === "/usr/local/sbin/family-xmpp-import-certificate",
            );
            assert.equal(hook?.permissions, "0755");
            assert.match(
                hook?.content ?? "",
                /prosodyctl --root cert import 'johansson\.example' '\/etc\/letsencrypt\/live'/,
            );
        },
    );

    it("runs the first-boot script last", () => {
        assert.deepEqual(cloudConfig.runcmd, [["/usr/local/sbin/family-xmpp-first-boot"]]);
    });

    it("holds no password or private key", () => {
        assert.doesNotMatch(userData, /PRIVATE KEY|password\s*[:=]/i);
    });
});

describe("calls", () => {
    const model = devFamily();
    const turnConfig = renderTurnServerConfig(model, ADDRESSES);
    const settings = (text: string) =>
        text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));

    it("has coturn accept only credentials made from the shared secret, for the family's realm", () => {
        assert.ok(settings(turnConfig).includes("use-auth-secret"));
        assert.ok(settings(turnConfig).includes("realm=johansson.example"));
    });

    it(
        "listens for STUN/TURN on 3478 and TURN over TLS on 5349 " + "with coturn's copy of the certificate",
        () => {
            for (const line of [
                "listening-port=3478",
                "tls-listening-port=5349",
                "cert=/etc/coturn/fullchain.pem",
                "pkey=/etc/coturn/privkey.pem",
                "no-tlsv1",
                "no-tlsv1_1",
            ]) {
                assert.ok(settings(turnConfig).includes(line), line);
            }
        },
    );

    it("relays through the configured port range only", () => {
        const custom = renderTurnServerConfig(
            { ...model, calls: { relayPorts: { min: 60000, max: 60099 } } },
            ADDRESSES,
        );
        assert.deepEqual(
            settings(custom).filter((line) => /^(min|max)-port=/.test(line)),
            ["min-port=60000", "max-port=60099"],
        );
    });

    /**
     * Whether coturn refuses to relay to `address`, read with Node's BlockList: one list per address
     * family, as coturn keeps them (a BlockList would also match IPv4 against IPv4-mapped IPv6 rules).
     */
    function refuses(config: string, address: string): boolean {
        const family = isIPv4(address) ? "ipv4" : "ipv6";
        const denied = new BlockList();
        for (const line of settings(config).filter((setting) => setting.startsWith("denied-peer-ip="))) {
            const [first, last = first] = line.slice("denied-peer-ip=".length).split("-");
            if ((isIPv4(first) ? "ipv4" : "ipv6") === family) denied.addRange(first, last, family);
        }
        return denied.check(address, family);
    }

    it("denies every private, loopback and link-local peer, IPv4 and IPv6", () => {
        for (const address of ["10.0.0.2", "127.0.0.1", "169.254.169.254", "192.168.1.1", "::1", "fd00::1"])
            assert.ok(refuses(turnConfig, address), address);
        assert.ok(settings(turnConfig).includes("no-multicast-peers"));
        assert.deepEqual(
            settings(turnConfig)
                .filter((line) => line.startsWith("denied-peer-ip="))
                .slice(0, DENIED_PEER_RANGES.length),
            DENIED_PEER_RANGES.map(({ range }) => `denied-peer-ip=${range}`),
        );
    });

    it(
        "denies the ways into IPv4 through IPv6 (6to4, Teredo, NAT64, mapped) " + "and documentation ranges",
        () => {
            for (const address of [
                "2002:c000:204::1",
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                "64:ff9b::a00:1",
                "64:ff9b:1::a00:1",
                "::ffff:10.0.0.1",
                "192.0.2.1",
                "198.51.100.7",
                "203.0.113.9",
                "2001:db8::1",
            ])
                assert.ok(refuses(turnConfig, address), address);
        },
    );

    it("denies the server's own public IPv4 address and its whole IPv6 network", () => {
        for (const address of ["5.75.128.10", "2a01:4f8:1c1c:abcd::1", "2a01:4f8:1c1c:abcd:ffff::7"])
            assert.ok(refuses(turnConfig, address), address);
        for (const address of ["5.75.128.11", "2a01:4f8:1c1c:abce::1", "8.8.8.8", "2606:4700::1111"])
            assert.ok(!refuses(turnConfig, address), address);
    });

    it("relays over UDP only: no TCP relays (RFC 6062)", () => {
        assert.ok(settings(turnConfig).includes("no-tcp-relay"));
    });

    it("caps relays at one per port, and one member's at a quarter of them", () => {
        const quotas = (config: string) =>
            settings(config).filter((line) => /^(user|total)-quota=/.test(line));
        assert.deepEqual(quotas(turnConfig), ["total-quota=256", "user-quota=64"]);
        const small = renderTurnServerConfig(
            { ...model, calls: { relayPorts: { min: 60000, max: 60015 } } },
            ADDRESSES,
        );
        assert.deepEqual(quotas(small), ["total-quota=16", "user-quota=4"]);
    });

    it("leaves the secret out of coturn's rendered config and out of the calls step's script", () => {
        assert.doesNotMatch(turnConfig, /^static-auth-secret/m);
        assert.doesNotMatch(renderSyncCallSecret(model, ADDRESSES), /static-auth-secret=[^%]/);
    });

    it(
        "has Prosody offer the TURN server on the host name, over UDP, TCP and TLS, " +
            "reading its secret from an include",
        () => {
            const prosody = renderProsodyConfig(model, PRODUCTION_HOST);
            assert.match(prosody, /^    "turn_external"; "family_xmpp_calls";$/m);
            assert.ok(prosody.includes(renderProsodyCallSettings(model, PRODUCTION_HOST).trimEnd()));
            assert.match(prosody, /^turn_external_host = "xmpp\.johansson\.example"$/m);
            assert.match(prosody, /^turn_external_tcp = true$/m);
            assert.match(prosody, /^turn_external_tls_port = 5349$/m);
            assert.match(prosody, /^Include "\/etc\/prosody\/secrets\.d\/\*\.cfg\.lua"$/m);
        },
    );

    it("leaves coturn and its Prosody module out when calls are off", () => {
        const { calls: _, ...withoutCalls } = model;
        const prosody = renderProsodyConfig(withoutCalls, PRODUCTION_HOST);
        assert.doesNotMatch(prosody, /"turn_external"|turn_external_host/);
        const cloudConfig = readCloudConfig(renderCloudInit(withoutCalls, VOLUME_DEVICE, ADDRESSES));
        assert.ok(!cloudConfig.packages.includes("coturn"));
        assert.ok(!cloudConfig.write_files.some((file) => file.path === "/etc/turnserver.conf"));
    });

    it(
        "installs coturn and boots it with its config minus the secret, " +
            "so it refuses everyone until the calls step",
        () => {
            const cloudConfig = readCloudConfig(renderCloudInit(model, VOLUME_DEVICE, ADDRESSES));
            assert.ok(cloudConfig.packages.includes("coturn"));
            const file = cloudConfig.write_files.find((f) => f.path === "/etc/turnserver.conf");
            assert.equal(file?.content, turnConfig);
            // Written before the packages: the package then keeps it (cloud-init installs with
            // --force-confold).
            assert.equal(file?.defer, undefined);
        },
    );
});

describe("the firewall", () => {
    it("opens SSH only to the configured networks, XMPP, files and calls to everyone", () => {
        const model = { ...devFamily(), sshAllowedCidrs: ["198.51.100.0/24"] };
        assert.deepEqual(
            renderFirewallRules(model).map((r) => [r.protocol, r.port ?? "", r.sourceIps.join(" ")]),
            [
                ["tcp", "22", "198.51.100.0/24"],
                ["tcp", "5222", "0.0.0.0/0 ::/0"],
                ["tcp", "5223", "0.0.0.0/0 ::/0"],
                ["tcp", "443", "0.0.0.0/0 ::/0"],
                ["tcp", "5269", "0.0.0.0/0 ::/0"],
                ["tcp", "5270", "0.0.0.0/0 ::/0"],
                ["udp", "3478", "0.0.0.0/0 ::/0"],
                ["tcp", "3478", "0.0.0.0/0 ::/0"],
                ["tcp", "5349", "0.0.0.0/0 ::/0"],
                ["udp", "49152-49407", "0.0.0.0/0 ::/0"],
                ["icmp", "", "0.0.0.0/0 ::/0"],
            ],
        );
    });

    it("closes the federation ports when federation is off", () => {
        const ports = renderFirewallRules({ ...devFamily(), federation: false }).map((r) => r.port);
        assert.ok(!ports.includes("5269") && !ports.includes("5270"));
    });
});

/** The backup step, backup, restore and alert scripts of the example family backed up to `backup`. */
function backupScripts(kind: string, backup: Record<string, unknown>): Record<string, string> {
    const secrets = kind === "sftp" ? { backupSshKey: { secure: "v1:x" } } : S3_SECRETS;
    const model = familyModel({ ...DEV_CONFIG, backup, ...secrets }) as Parameters<
        typeof renderSyncBackup
    >[0];
    return {
        [`sync-backup (${kind})`]: renderSyncBackup(model),
        [`backup (${kind})`]: renderBackupScript(model),
        [`restore (${kind})`]: renderRestoreScript(model),
        "backup-alert": renderBackupAlertScript(model),
    };
}
const S3_SECRETS = { backupS3AccessKeyId: { secure: "v1:x" }, backupS3SecretAccessKey: { secure: "v1:y" } };
const DEV_CONFIG = rawConfigFromStackFile(readFileSync(join(__dirname, "..", "Pulumi.dev.yaml"), "utf8"));

describe("the server's shell scripts", () => {
    const model = devFamily();
    const scripts: Record<string, string> = {
        "first-boot":
            renderServerFiles(model, VOLUME_DEVICE, ADDRESSES, DEPLOY_KEY).find((f) =>
                f.path.endsWith("family-xmpp-first-boot"),
            )?.content ?? "",
        "wait-for-cloud-init": renderWaitForCloudInit(),
        "ensure-account": renderEnsureAccount(model, "åsa"),
        "disable-account": renderDisableAccount(model, "åsa"),
        "erase-account": renderEraseAccount(model, "åsa"),
        "sync-family-files": renderSyncFamilyFiles(model, renderServerFamilyFiles(model, DEPLOY_KEY)),
        "import-certificate": renderImportHook(model),
        "store-dns-credentials": renderStoreDnsCredentials(),
        "obtain-certificate": renderObtainCertificate(model),
        "sync-call-secret": renderSyncCallSecret(model, ADDRESSES),
        "welcome-link": renderWelcomeLink(model, "åsa"),
        ...backupScripts("sftp", { repository: "sftp:u1@u1.your-storagebox.de:family-xmpp" }),
        ...backupScripts("s3", { repository: "s3:https://fsn1.your-objectstorage.com/johansson/family" }),
        "remove-backup": renderRemoveBackup(),
    };

    /**
     * Every check shellcheck has, the optional ones included, but two: SC2250 (braces around every
     * variable: style only, "$x" quotes exactly like "${x}") and SC2310 (set -e does not reach into a
     * function called as a condition: the library's functions are conditions by design, whether
     * Prosody runs or a file changed, and their callers handle a failure).
     */
    const SHELLCHECK = ["-s", "sh", "--enable=all", "--exclude=SC2250,SC2310", "-"];

    for (const [name, script] of Object.entries(scripts)) {
        it(`${name} passes shellcheck with its optional checks, none turned off in the script`, (t) => {
            assert.doesNotMatch(script, /shellcheck\s+disable/);
            if (!hasTool(t, "shellcheck", "shellcheck")) return;
            const result = spawnSync("shellcheck", SHELLCHECK, { input: script, encoding: "utf8" });
            assert.equal(result.status, 0, result.stdout);
        });
    }

    it("quote the member's address for the shell", () => {
        assert.match(scripts["ensure-account"], /^jid='åsa@johansson\.example'$/m);
    });

    it("read the password from stdin, never from the command line", () => {
        assert.match(scripts["ensure-account"], /IFS= read -r password/);
        assert.doesNotMatch(scripts["ensure-account"], /adduser "\$jid" "\$password"/);
    });
});
