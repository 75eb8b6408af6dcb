/**
 * Runs index.ts, the real Pulumi program, under `pulumi.runtime.setMocks` in this process and prints
 * what it declared as JSON on stdout. Config comes from FAMILY_XMPP_TEST_CONFIG (the engine's form:
 * every value a string, structured values JSON). Started by plan/run-program.ts, for `npm run plan`
 * and the tests; no cloud is called and nothing from the config is executed. FAMILY_XMPP_PROGRAM
 * names another copy of index.ts to run instead (the program as it was at a plan's base).
 */
import * as pulumi from "@pulumi/pulumi";

interface Declared {
    type: string;
    name: string;
    id: string;
    inputs: Record<string, unknown>;
}

/** Resources a `pulumi up` would replace (comma-separated names): each gets a new id, as a new one would. */
const replaced = new Set((process.env.FAMILY_XMPP_MOCK_NEW_IDS ?? "").split(",").filter(Boolean));

/**
 * Hetzner ids are numbers (the program converts them with Number): a stable one per name. A
 * rebuilt server is a new server with a new id: FAMILY_XMPP_TEST_SERVER_GENERATION gives it one.
 */
function mockId(type: string, name: string): string {
    const generation = [
        type === "hcloud:index/server:Server" ? (process.env.FAMILY_XMPP_TEST_SERVER_GENERATION ?? "") : "",
        replaced.has(name) ? "replaced" : "",
    ].join("");
    if (!type.startsWith("hcloud:")) return `${name}-id${generation}`;
    let hash = 7;
    for (const char of name + generation) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_000;
    return String(100_000 + hash);
}

const declared: Declared[] = [];
const options: {
    type: string;
    name: string;
    protect: boolean;
    ignoreChanges: string[];
    deleteBeforeReplace: boolean;
    dependsOn: string[];
}[] = [];

/**
 * What the clouds would answer. The boot test points the "server" at its container and hands in a
 * real key pair (FAMILY_XMPP_TEST_IPV4, FAMILY_XMPP_TEST_DEPLOY_KEY as `{"private","public"}`), so
 * that the captured commands can be replayed over real SSH.
 */
const ipv4 = process.env.FAMILY_XMPP_TEST_IPV4 ?? "203.0.113.10";
const deployKey = process.env.FAMILY_XMPP_TEST_DEPLOY_KEY
    ? (JSON.parse(process.env.FAMILY_XMPP_TEST_DEPLOY_KEY) as { private: string; public: string })
    : undefined;
const fakeOutputs: Record<
    string,
    (name: string, inputs: Record<string, unknown>) => Record<string, unknown>
> = {
    "hcloud:index/primaryIp:PrimaryIp": (_, inputs) => ({
        ipAddress: inputs.type === "ipv4" ? ipv4 : "2001:db8:10::/64",
        ipNetwork: inputs.type === "ipv4" ? "" : "2001:db8:10::/64",
    }),
    "hcloud:index/server:Server": () => ({ ipv4Address: ipv4, ipv6Address: "2001:db8:10::1" }),
    "tls:index/privateKey:PrivateKey": (name) => ({
        publicKeyOpenssh:
            deployKey?.public ??
            `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeDeployKeyFor${name.replace(/[^A-Za-z0-9]/g, "")}\n`,
        privateKeyOpenssh:
            deployKey?.private ??
            `-----BEGIN OPENSSH PRIVATE KEY-----\nfake-${name}\n-----END OPENSSH PRIVATE KEY-----\n`,
    }),
    // Letters and digits, as `special: false` makes them: "pwFamilyPasswordAnna".
    "random:index/randomPassword:RandomPassword": (name) => ({
        result: `pw${name
            .split(/[^A-Za-z0-9]+/)
            .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
            .join("")}`,
    }),
    "cloudflare:index/apiToken:ApiToken": (name) => ({ value: `cf-token-${name}` }),
};

pulumi.runtime.setAllConfig(JSON.parse(process.env.FAMILY_XMPP_TEST_CONFIG ?? "{}"));
pulumi.runtime.setMocks(
    {
        newResource(args) {
            const id = mockId(args.type, args.name);
            declared.push({ type: args.type, name: args.name, id, inputs: args.inputs });
            const extra = fakeOutputs[args.type]?.(args.name, args.inputs) ?? {};
            return { id, state: { ...args.inputs, ...extra } };
        },
        call(args) {
            if (args.token === "cloudflare:index/getZone:getZone")
                return { id: "zone-123", zoneId: "zone-123", name: "zone" };
            if (
                args.token ===
                "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList"
            ) {
                return {
                    results: [
                        {
                            id: "zone-read-group",
                            name: "Zone Read",
                            scopes: ["com.cloudflare.api.account.zone"],
                        },
                        {
                            id: "dns-read-group",
                            name: "DNS Read",
                            scopes: ["com.cloudflare.api.account.zone"],
                        },
                        {
                            id: "dns-write-group",
                            name: "DNS Write",
                            scopes: ["com.cloudflare.api.account.zone"],
                        },
                    ],
                };
            }
            // An invoke nobody answers here would hand the program its own arguments as a result.
            // Pulumi reports an invoke's failure by the error's gRPC `details`.
            const refusal = `the mocks do not answer the invoke ${args.token}`;
            throw Object.assign(new Error(refusal), { details: refusal });
        },
    },
    "family-xmpp",
    "test",
    false,
);

const recordOptions = () =>
    pulumi.runtime.registerStackTransformation((args) => {
        options.push({
            type: args.type,
            name: args.name,
            protect: args.opts.protect === true,
            ignoreChanges: args.opts.ignoreChanges ?? [],
            deleteBeforeReplace:
                (args.opts as { deleteBeforeReplace?: boolean }).deleteBeforeReplace === true,
            dependsOn: ([] as unknown[])
                .concat(args.opts.dependsOn ?? [])
                .map((r) => (r as { __name?: string }).__name ?? "?"),
        });
        return undefined;
    });

async function main(): Promise<void> {
    let program: Record<string, unknown> = {};
    let failure: Error | undefined;
    await pulumi.runtime.runInPulumiStack(async () => {
        recordOptions();
        try {
            program = await import(process.env.FAMILY_XMPP_PROGRAM ?? "../index");
        } catch (error) {
            failure = error as Error;
        }
    });
    if (failure) {
        const runError = failure instanceof pulumi.RunError || failure.name === "RunError";
        process.stdout.write(
            JSON.stringify({
                declared,
                options,
                outputs: {},
                error: { runError, message: failure.message, stack: failure.stack },
            }),
        );
        return;
    }
    const outputs: Record<string, { value: unknown; secret: boolean }> = {};
    for (const [key, value] of Object.entries(program)) {
        const output: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
        outputs[key] = {
            value: await new Promise((done) =>
                output.apply((resolved: unknown) => {
                    done(resolved);
                    return resolved;
                }),
            ),
            secret: await pulumi.isSecret(output),
        };
    }
    await new Promise((done) => setTimeout(done, 200));
    process.stdout.write(JSON.stringify({ declared, options, outputs }));
}

main();
