import { REPLACED_WHEN_CHANGED } from "./replacements";
import { DeclaredResource, StackRun } from "./run-program";

export type ResourceChangeKind = "create" | "delete" | "replace" | "update";

/** What `pulumi up` would do to one resource when the program goes from one run to the other. */
export interface ResourceChange {
    readonly type: string;
    readonly name: string;
    readonly kind: ResourceChangeKind;
    /** Inputs whose value differs (none for a created or deleted resource). */
    readonly changedInputs: readonly string[];
    /** Those of them that make the provider replace the resource. */
    readonly replacedBecause: readonly string[];
    readonly before?: DeclaredResource;
    readonly after?: DeclaredResource;
}

/** Components and the stack itself hold no cloud state: nothing is created or replaced for them. */
function isCloudResource(resource: DeclaredResource): boolean {
    return !resource.type.startsWith("family-xmpp:") && resource.type !== "pulumi:pulumi:Stack";
}

const keyOf = (resource: DeclaredResource) => `${resource.type}::${resource.name}`;

/** Every resource that differs between the two runs, in the order the later run declares them. */
export function diffResources(before: StackRun, after: StackRun): ResourceChange[] {
    const old = new Map(before.declared.filter(isCloudResource).map((r) => [keyOf(r), r]));
    const changes: ResourceChange[] = [];
    for (const resource of after.declared.filter(isCloudResource)) {
        const previous = old.get(keyOf(resource));
        old.delete(keyOf(resource));
        if (!previous) {
            changes.push({ ...identity(resource), kind: "create", changedInputs: [], replacedBecause: [] });
            continue;
        }
        const ignored = after.options.find((o) => o.type === resource.type && o.name === resource.name);
        const changedInputs = [...new Set([...Object.keys(previous.inputs), ...Object.keys(resource.inputs)])]
            .filter((input) => !ignored?.ignoreChanges.includes(input))
            .filter(
                (input) => JSON.stringify(previous.inputs[input]) !== JSON.stringify(resource.inputs[input]),
            )
            .sort();
        if (changedInputs.length === 0) continue;
        const replacedBecause = changedInputs.filter((input) =>
            (REPLACED_WHEN_CHANGED[resource.type] ?? []).includes(input),
        );
        changes.push({
            ...identity(resource),
            kind: replacedBecause.length > 0 ? "replace" : "update",
            changedInputs,
            replacedBecause,
            before: previous,
            after: resource,
        });
    }
    for (const gone of old.values()) {
        changes.push({
            type: gone.type,
            name: gone.name,
            kind: "delete",
            changedInputs: [],
            replacedBecause: [],
            before: gone,
        });
    }
    return changes;
}

function identity(resource: DeclaredResource) {
    return { type: resource.type, name: resource.name, after: resource };
}
