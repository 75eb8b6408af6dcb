import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FamilyModel } from "../../model/family";
import { ensureCertificates } from "../../scripts/local-server";

/** A certbot lineage as Let's Encrypt would leave it after a renewal, signed by a new CA. */
export interface Renewal {
    /** certbot's `live` directory, holding `<domain>/fullchain.pem` and `<domain>/privkey.pem`. */
    readonly liveDir: string;
    /** The new CA's certificate file, and its PEM. */
    readonly caFile: string;
    readonly caCertificate: string;
    remove(): void;
}

export function renewedCertificate(model: FamilyModel): Renewal {
    const dir = mkdtempSync(join(tmpdir(), "renewal-"));
    const liveDir = join(dir, "live");
    const lineage = join(liveDir, model.domain);
    mkdirSync(lineage, { recursive: true });
    mkdirSync(join(dir, "issued"));
    const caCertificate = ensureCertificates(dir, join(dir, "issued"), model);
    renameSync(join(dir, "issued", `${model.domain}.crt`), join(lineage, "fullchain.pem"));
    renameSync(join(dir, "issued", `${model.domain}.key`), join(lineage, "privkey.pem"));
    chmodSync(join(lineage, "privkey.pem"), 0o600);
    return {
        liveDir,
        caFile: join(dir, "ca.crt"),
        caCertificate,
        remove: () => rmSync(dir, { recursive: true, force: true }),
    };
}
