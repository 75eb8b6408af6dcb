import { diffResources, ResourceChange } from "./resource-diff";
import { runStackAsync, StackRun } from "./run-program";

/** What the program declares for a stack config that does not exist yet: nothing. */
export const NOTHING_DECLARED: StackRun = { declared: [], options: [], outputs: {} };

export interface SimulatedUp {
    readonly before: StackRun;
    /** The later run, with a new id for every resource `pulumi up` would replace. */
    readonly after: StackRun;
    readonly changes: readonly ResourceChange[];
}

/**
 * The real program under mocks for the later config, and what `pulumi up` would change from the
 * earlier run (`before`, which may still be running; `NOTHING_DECLARED` for a stack not made yet).
 * A replaced resource gets a new id, which every resource using it sees (a new server re-runs the
 * steps triggered by its id, re-attaches the volume): the later config is run again with those new
 * ids until no further replacement follows.
 */
export async function simulateUp(
    beforeRun: StackRun | Promise<StackRun>,
    headConfig: Record<string, unknown>,
): Promise<SimulatedUp> {
    const [before, first] = await Promise.all([beforeRun, runStackAsync(headConfig)]).then((runs) =>
        runs.map(completed),
    );
    let after = first;
    const replaced = new Set<string>();
    for (;;) {
        const changes = diffResources(before, after);
        const newlyReplaced = changes.filter((c) => c.kind === "replace" && !replaced.has(c.name));
        if (newlyReplaced.length === 0) return { before, after, changes };
        for (const change of newlyReplaced) replaced.add(change.name);
        after = completed(
            await runStackAsync(headConfig, { FAMILY_XMPP_MOCK_NEW_IDS: [...replaced].join(",") }),
        );
    }
}

/** A program that stopped halfway declared only part of the stack: no plan can be made from it. */
function completed(run: StackRun): StackRun {
    if (run.error) throw new Error(`the program failed under mocks: ${run.error.message}`);
    return run;
}
