/** The program under Pulumi mocks, as the tests use it: the runner lives with `npm run plan`. */
export {
    DeclaredResource,
    optionsOf,
    resourceNamed,
    resourcesOf,
    ResourceOptionsSeen,
    SECRET_SIGNATURE,
    secretValue,
    StackRun,
} from "../../plan/run-program";
import { runStack as runProgram, StackRun } from "../../plan/run-program";
import { decidedAboutBackups } from "./families";

/** The real program under mocks, with a test family's config (see `decidedAboutBackups`). */
export function runStack(
    config: Record<string, unknown>,
    environment: Record<string, string> = {},
): StackRun {
    return runProgram(decidedAboutBackups(config), environment);
}
