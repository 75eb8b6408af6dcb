import { ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { portOpen, writeSelfSignedCertificate } from "../../scripts/local-server";

/** An S3-compatible server (s3rver, from npm) over HTTPS, for backups in the tests. */
export interface S3Server {
    /** The self-signed certificate it serves (PEM file), for restic to trust (SSL_CERT_FILE). */
    readonly certificateFile: string;
    /** s3rver's one account. */
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    stop(): void;
}

const S3RVER = join(__dirname, "..", "..", "node_modules", ".bin", "s3rver");

/**
 * s3rver on `address:port` with a bucket `bucket`, over HTTPS with a certificate for the address
 * made in `dir`; `netns` runs it in a network namespace.
 */
export async function startS3Server(
    dir: string,
    port: number,
    bucket: string,
    address = "127.0.0.1",
    netns?: string,
): Promise<S3Server> {
    mkdirSync(join(dir, "data"), { recursive: true });
    const [key, certificateFile] = [join(dir, "s3.key"), join(dir, "s3.crt")];
    writeSelfSignedCertificate(key, certificateFile, {
        commonName: address,
        days: 30,
        subjectAltName: `IP:${address}`,
    });
    const command = [
        ...(netns ? ["ip", "netns", "exec", netns] : []),
        S3RVER,
        "-d",
        join(dir, "data"),
        "-a",
        address,
        "-p",
        String(port),
        "--key",
        key,
        "--cert",
        certificateFile,
        "--configure-bucket",
        bucket,
        "-s",
    ];
    const server: ChildProcess = spawn(command[0], command.slice(1), { stdio: "ignore" });
    const deadline = Date.now() + 20_000;
    while (!(await portOpen(port, address))) {
        if (Date.now() > deadline || server.exitCode !== null) {
            server.kill();
            throw new Error(`s3rver did not start on ${address}:${port}`);
        }
        await new Promise((done) => setTimeout(done, 100));
    }
    return { certificateFile, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", stop: () => server.kill() };
}
