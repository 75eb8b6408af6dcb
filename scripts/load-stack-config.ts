import { readFileSync } from "node:fs";
import { FamilyModel } from "../model/family";
import { rawConfigFromStackFile } from "../model/stack-config";
import { formatProblems, parseFamilyConfig } from "../model/validate";

export type StackConfigResult =
    | { readonly ok: true; readonly raw: Record<string, unknown>; readonly model: FamilyModel }
    | { readonly ok: false; readonly message: string };

/** Parses and validates the text of a Pulumi.<stack>.yaml; `label` names it in every problem. */
export function parseStackConfigText(text: string, label: string): StackConfigResult {
    let raw: Record<string, unknown>;
    try {
        raw = rawConfigFromStackFile(text);
    } catch (error) {
        return { ok: false, message: `${label} is not valid YAML: ${(error as Error).message}` };
    }
    const result = parseFamilyConfig(raw);
    if (!result.ok) return { ok: false, message: `${label}: ${formatProblems(result.problems)}` };
    return { ok: true, raw, model: result.model };
}

/** Reads and validates a Pulumi.<stack>.yaml; on bad input prints every problem and exits with 2. */
export function loadStackConfigOrExit(file: string): FamilyModel {
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch {
        console.error(`Cannot read the stack config file ${file}.`);
        process.exit(2);
    }
    const result = parseStackConfigText(text, file);
    if (!result.ok) {
        console.error(result.message);
        process.exit(2);
    }
    return result.model;
}
