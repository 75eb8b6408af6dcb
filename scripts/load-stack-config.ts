import { readFileSync } from "node:fs";
import { FamilyModel } from "../model/family";
import { rawConfigFromStackFile } from "../model/stack-config";
import { formatProblems, parseFamilyConfig } from "../model/validate";

/** Reads and validates a Pulumi.<stack>.yaml; on bad input prints every problem and exits with 2. */
export function loadStackConfigOrExit(file: string): FamilyModel {
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch {
        console.error(`Cannot read the stack config file ${file}.`);
        process.exit(2);
    }
    let raw: Record<string, unknown>;
    try {
        raw = rawConfigFromStackFile(text);
    } catch (error) {
        console.error(`${file} is not valid YAML: ${(error as Error).message}`);
        process.exit(2);
    }
    const result = parseFamilyConfig(raw);
    if (!result.ok) {
        console.error(`${file}: ${formatProblems(result.problems)}`);
        process.exit(2);
    }
    return result.model;
}
