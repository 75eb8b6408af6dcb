import { optionsOf, plainValue, resourcesOf, StackRun } from "./run-program";

const COMMAND = "command:remote:Command";

/** One `command.remote.Command` of the program, as the Pulumi mocks captured it. */
export interface ProvisioningStep {
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly create: string;
    readonly update?: string;
    readonly delete?: string;
    readonly stdin?: string;
    readonly dependsOn: readonly string[];
}

/** How `pulumi up` treats a step: see `plannedRuns`. */
export type StepRunKind = "create" | "replace" | "replace (delete old)" | "update" | "delete";

export interface PlannedRun {
    readonly step: ProvisioningStep;
    readonly script: string;
    readonly why: StepRunKind;
}

/** The program's provisioning steps in the order Pulumi runs them (dependencies first). */
export function provisioningSteps(run: StackRun): ProvisioningStep[] {
    const steps = resourcesOf(run, COMMAND).map((resource) => ({
        name: resource.name,
        inputs: resource.inputs,
        create: String(resource.inputs.create),
        update: resource.inputs.update === undefined ? undefined : String(resource.inputs.update),
        delete: resource.inputs.delete === undefined ? undefined : String(resource.inputs.delete),
        stdin: resource.inputs.stdin === undefined ? undefined : plainValue(resource.inputs.stdin),
        dependsOn: optionsOf(run, COMMAND, resource.name).dependsOn,
    }));
    const ordered: ProvisioningStep[] = [];
    const visit = (step: ProvisioningStep) => {
        if (ordered.includes(step)) return;
        for (const dependency of step.dependsOn) {
            const before = steps.find((candidate) => candidate.name === dependency);
            if (before) visit(before);
        }
        ordered.push(step);
    };
    steps.forEach(visit);
    return ordered;
}

/**
 * What `pulumi up` would run when the program goes from `before` to `after`: new steps are
 * created, steps whose triggers changed are replaced (created anew, then the old one deleted),
 * steps with other changed inputs are updated (their `update`, or else `create`, runs again),
 * and steps that are gone are deleted. The command provider's own rule: `triggers` is its only
 * input that replaces a command (pulumi-command, `remote.Command`: "Trigger replacements on
 * changes to this input"); any other change is an update, which runs `update`, or `create` when
 * there is none.
 */
export function plannedRuns(before: StackRun, after: StackRun): PlannedRun[] {
    const old = new Map(provisioningSteps(before).map((step) => [step.name, step]));
    const runs: PlannedRun[] = [];
    const deletes: PlannedRun[] = [];
    for (const step of provisioningSteps(after)) {
        const previous = old.get(step.name);
        if (!previous) {
            runs.push({ step, script: step.create, why: "create" });
        } else if (JSON.stringify(previous.inputs.triggers) !== JSON.stringify(step.inputs.triggers)) {
            runs.push({ step, script: step.create, why: "replace" });
            if (previous.delete)
                deletes.push({ step: previous, script: previous.delete, why: "replace (delete old)" });
        } else if (JSON.stringify(previous.inputs) !== JSON.stringify(step.inputs)) {
            runs.push({ step, script: step.update ?? step.create, why: "update" });
        }
        old.delete(step.name);
    }
    for (const gone of [...old.values()].reverse()) {
        if (gone.delete) deletes.push({ step: gone, script: gone.delete, why: "delete" });
    }
    return [...runs, ...deletes];
}
