import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** OpenSSH's sshd serving SFTP only, to one key, for backups in the tests and the benchmark. */
export interface SftpServer {
    /** The private key a backup logs in with (OpenSSH format, no passphrase). */
    readonly clientKey: string;
    stop(): void;
}

/**
 * sshd on `address:port` (loopback unless given), with host and client keys made in `dir`; `netns`
 * runs it in a network namespace. It serves SFTP and nothing else (ForceCommand internal-sftp), as
 * a Storage Box does, to whoever holds the client key, as the user running it.
 */
export function startSftpServer(
    dir: string,
    port: number,
    address = "127.0.0.1",
    netns?: string,
): SftpServer {
    mkdirSync(dir, { recursive: true });
    const key = (name: string) => {
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, name)]);
        return join(dir, name);
    };
    const hostKey = key("ssh_host_ed25519_key");
    const clientKey = key("backup-key");
    writeFileSync(join(dir, "authorized_keys"), readFileSync(`${clientKey}.pub`));
    const config = join(dir, "sshd_config");
    writeFileSync(
        config,
        [
            `Port ${port}`,
            `ListenAddress ${address}`,
            `HostKey ${hostKey}`,
            `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",
            "Subsystem sftp internal-sftp",
            "ForceCommand internal-sftp",
            `PidFile ${join(dir, "sshd.pid")}`,
            "",
        ].join("\n"),
    );
    // sshd refuses to start without its privilege separation directory.
    mkdirSync("/run/sshd", { recursive: true });
    const command = [
        ...(netns ? ["ip", "netns", "exec", netns] : []),
        "/usr/sbin/sshd",
        "-D",
        "-e",
        "-f",
        config,
    ];
    const sshd: ChildProcess = spawn(command[0], command.slice(1), { stdio: "ignore" });
    return { clientKey: readFileSync(clientKey, "utf8"), stop: () => sshd.kill() };
}
