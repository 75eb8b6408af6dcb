import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Debian's Chromium, headless: it prints the welcome sheets to PDF (and the tests look at pages
 * with it). Without the background-networking flags it keeps trying to reach Google's services; as
 * root it only runs without its sandbox.
 */
export const CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

export function chromiumInstalled(): boolean {
    return spawnSync("sh", ["-c", "command -v chromium"], { stdio: "ignore" }).status === 0;
}

/** Prints an HTML document to `pdfFile` as Chromium's "Save as PDF" would, without header or footer. */
export function printToPdf(html: string, pdfFile: string): void {
    const work = mkdtempSync(join(tmpdir(), "family-xmpp-pdf-"));
    try {
        const page = join(work, "page.html");
        writeFileSync(page, html, { mode: 0o600 });
        const result = spawnSync(
            "chromium",
            [
                ...CHROMIUM_FLAGS,
                `--user-data-dir=${join(work, "profile")}`,
                "--no-pdf-header-footer",
                `--print-to-pdf=${pdfFile}`,
                pathToFileURL(page).href,
            ],
            { encoding: "utf8", timeout: 60_000 },
        );
        if (result.status !== 0) {
            throw new Error(`chromium could not print ${pdfFile} (exit ${result.status}): ${result.stderr}`);
        }
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}
