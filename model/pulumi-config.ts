import * as pulumi from "@pulumi/pulumi";
import { FamilyModel } from "./family";
import { rawConfigFromEngine } from "./stack-config";
import { formatProblems, parseFamilyConfig } from "./validate";

/**
 * The family model from the running stack's config. Bad config stops the program before any
 * resource is declared, with every problem listed and no stack trace (RunError).
 */
export function readFamilyModel(): FamilyModel {
    const result = parseFamilyConfig(rawConfigFromEngine(pulumi.runtime.allConfig()));
    if (!result.ok) throw new pulumi.RunError(formatProblems(result.problems));
    return result.model;
}
