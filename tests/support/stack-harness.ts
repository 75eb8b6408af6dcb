/** The program under Pulumi mocks, as the tests use it: the runner lives with `npm run plan`. */
export {
    DeclaredResource,
    optionsOf,
    resourceNamed,
    resourcesOf,
    ResourceOptionsSeen,
    runStack,
    SECRET_SIGNATURE,
    secretValue,
    StackRun,
} from "../../plan/run-program";
