import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SftpServer as LoopbackSftp, startSftpServer } from "../support/sftp";
import { run, runQuietly } from "./shell";

/**
 * The family's backup storage, as a Hetzner Storage Box is to the server: OpenSSH's sshd in a
 * network namespace of its own, serving SFTP only to one key, into a folder of the host (so that
 * the test can look into the repository with restic directly). The container reaches it through
 * the host, as it reaches Debian's mirror.
 */
export class SftpServer {
    static readonly NAMESPACE = "fxbootsftp";
    static readonly HOST_ADDRESS = "10.199.1.1";
    static readonly ADDRESS = "10.199.1.2";
    private static readonly HOST_LINK = "fxbootsftp-h";
    private static readonly SERVER_LINK = "fxbootsftp-s";
    private sftp?: LoopbackSftp;

    constructor(private readonly workDir: string) {}

    /** Where the repository lands on the host. */
    get storageDir(): string {
        return join(this.workDir, "storage-box");
    }

    /** Starts it; returns the private key the family's server logs in with (the Storage Box's key). */
    up(): string {
        this.down();
        const { NAMESPACE, HOST_LINK, SERVER_LINK, HOST_ADDRESS, ADDRESS } = SftpServer;
        run("ip", ["netns", "add", NAMESPACE]);
        run("ip", ["link", "add", HOST_LINK, "type", "veth", "peer", "name", SERVER_LINK]);
        run("ip", ["link", "set", SERVER_LINK, "netns", NAMESPACE]);
        run("ip", ["addr", "add", `${HOST_ADDRESS}/24`, "dev", HOST_LINK]);
        run("ip", ["link", "set", HOST_LINK, "up"]);
        run("ip", ["-n", NAMESPACE, "addr", "add", `${ADDRESS}/24`, "dev", SERVER_LINK]);
        run("ip", ["-n", NAMESPACE, "link", "set", SERVER_LINK, "up"]);
        run("ip", ["-n", NAMESPACE, "link", "set", "lo", "up"]);
        run("ip", ["-n", NAMESPACE, "route", "add", "default", "via", HOST_ADDRESS]);

        mkdirSync(this.storageDir, { recursive: true });
        this.sftp = startSftpServer(join(this.workDir, "sftp-server"), 22, ADDRESS, NAMESPACE);
        return this.sftp.clientKey;
    }

    down(): void {
        this.sftp?.stop();
        this.sftp = undefined;
        runQuietly("ip", ["link", "delete", SftpServer.HOST_LINK]);
        runQuietly("ip", ["netns", "delete", SftpServer.NAMESPACE]);
    }
}
