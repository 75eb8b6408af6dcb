import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FamilyModel } from "../../model/family";
import { certificateNames } from "../../render/certificates";

/**
 * A certificate signed by a trusted CA and covering every name, expired in 2020: what a server
 * shows when its renewals kept failing.
 */
export interface ExpiredCertificate {
    readonly certificateFile: string;
    readonly keyFile: string;
    remove(): void;
}

export function expiredCertificate(
    model: FamilyModel,
    caCertificate: string,
    caKey: string,
): ExpiredCertificate {
    const dir = mkdtempSync(join(tmpdir(), "expired-"));
    const openssl = (...args: string[]) =>
        execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    const names = certificateNames(model)
        .map((name) => `DNS:${name}`)
        .join(",");
    openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        `/CN=${model.domain}`,
        "-addext",
        `subjectAltName=${names}`,
        "-keyout",
        join(dir, "privkey.pem"),
        "-out",
        join(dir, "request.csr"),
    );
    // `openssl ca` is the one OpenSSL 3.0 command that sets dates in the past.
    writeFileSync(join(dir, "index.txt"), "");
    writeFileSync(join(dir, "serial"), "1000\n");
    writeFileSync(
        join(dir, "ca.cnf"),
        [
            "[ca]",
            "default_ca = expired",
            "[expired]",
            `database = ${dir}/index.txt`,
            `new_certs_dir = ${dir}`,
            `serial = ${dir}/serial`,
            "default_md = sha256",
            "policy = anything",
            "copy_extensions = copy",
            "unique_subject = no",
            "[anything]",
            "commonName = supplied",
        ].join("\n"),
    );
    openssl(
        "ca",
        "-batch",
        "-notext",
        "-config",
        join(dir, "ca.cnf"),
        "-cert",
        caCertificate,
        "-keyfile",
        caKey,
        "-startdate",
        "20200101000000Z",
        "-enddate",
        "20200201000000Z",
        "-in",
        join(dir, "request.csr"),
        "-out",
        join(dir, "fullchain.pem"),
    );
    return {
        certificateFile: join(dir, "fullchain.pem"),
        keyFile: join(dir, "privkey.pem"),
        remove: () => rmSync(dir, { recursive: true, force: true }),
    };
}
