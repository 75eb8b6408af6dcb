import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FamilyModel } from "../../model/family";
import { rawConfigFromStackFile } from "../../model/stack-config";
import { formatProblems, parseFamilyConfig } from "../../model/validate";

/**
 * A stack must say where its backups go or that it has none; the tests' families that say nothing
 * about it run without (`backup: false`), and a test about backups names its repository.
 */
export function decidedAboutBackups(raw: Record<string, unknown>): Record<string, unknown> {
    return "backup" in raw ? raw : { ...raw, backup: false };
}

/** The model of a family config the tests know to be valid (fails loudly if it is not). */
export function familyModel(raw: Record<string, unknown>): FamilyModel {
    const result = parseFamilyConfig(decidedAboutBackups(raw));
    if (!result.ok) throw new Error(formatProblems(result.problems));
    return result.model;
}

/** The example family of Pulumi.dev.yaml, as `npm start` and the README use it. */
export function devFamily(): FamilyModel {
    return familyModel(
        rawConfigFromStackFile(readFileSync(join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8")),
    );
}
