import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** What makes up the program, apart from the stack's config: a change here can change the resources. */
const PROGRAM_PATHS = [
    "index.ts",
    "components",
    "model",
    "render",
    "config-templates",
    "package-lock.json",
    "Pulumi.yaml",
];

const ROOT = resolve(__dirname, "..");

/** Whether the program at a git ref differs from the one in the working tree. */
export function programChangedSince(ref: string): boolean {
    const diff = spawnSync("git", ["diff", "--quiet", ref, "--", ...PROGRAM_PATHS], { cwd: ROOT });
    if (diff.status !== 0 && diff.status !== 1) throw new Error(`git diff ${ref} failed: ${diff.stderr}`);
    return diff.status === 1;
}

/** The program as it was at a git ref, unpacked beside this one (sharing its packages). */
export interface BaseProgram {
    /** Its index.ts, for the mock runner (FAMILY_XMPP_PROGRAM). */
    readonly index: string;
    remove(): void;
}

/**
 * The base's own program, so that a plan shows what a change of the code does too (a new server
 * image replaces the server). It is the repository's code at that ref, never anything from a
 * config; the packages are this checkout's, so a change of dependency versions is not seen.
 */
export function checkOutProgram(ref: string): BaseProgram {
    const dir = mkdtempSync(join(tmpdir(), "family-xmpp-base-"));
    const archive = spawnSync("git", ["archive", "--format=tar", ref, "--", ...PROGRAM_PATHS], {
        cwd: ROOT,
        maxBuffer: 256 << 20,
    });
    if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr}`);
    const untar = spawnSync("tar", ["-x", "-C", dir], { input: archive.stdout });
    if (untar.status !== 0) throw new Error(`unpacking ${ref} failed: ${untar.stderr}`);
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    return { index: join(dir, "index.ts"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
