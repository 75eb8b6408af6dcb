import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { renderWelcomeSheets } from "../render/welcome-sheet";
import { chromiumInstalled, printToPdf } from "./chromium";
import { loadStackConfigOrExit } from "./load-stack-config";

/**
 * `npm run welcome-sheets -- --stack-config Pulumi.<stack>.yaml [--links FILE] [--out FILE]`: the
 * printable welcome sheets, one page per member, from the links `pulumi stack output --show-secrets
 * --json welcomeLinks` gives (a file, or stdin when --links is left out). `--out` ending in .pdf
 * (the default, welcome-sheets.pdf) needs Debian's Chromium; .html opens in any browser.
 */
const { values } = parseArgs({
    options: {
        "stack-config": { type: "string" },
        links: { type: "string" },
        out: { type: "string", default: "welcome-sheets.pdf" },
    },
});
if (!values["stack-config"]) {
    console.error(
        "usage: pulumi stack output --show-secrets --json welcomeLinks | " +
            "npm run welcome-sheets -- --stack-config Pulumi.<stack>.yaml [--out welcome-sheets.pdf|.html]",
    );
    process.exit(2);
}
const model = loadStackConfigOrExit(values["stack-config"]);
const out = values.out ?? "welcome-sheets.pdf";

let links: Record<string, string>;
try {
    links = JSON.parse(readFileSync(values.links ?? 0, "utf8")) as Record<string, string>;
} catch (error) {
    console.error(
        `Cannot read the welcome links (${values.links ?? "stdin"}) as JSON: ${(error as Error).message}`,
    );
    process.exit(2);
}
let html: string;
try {
    html = renderWelcomeSheets(model, links);
} catch (error) {
    console.error(
        `${(error as Error).message}: run \`pulumi up\` after adding a member, then take the links again`,
    );
    process.exit(2);
}
if (out.endsWith(".pdf")) {
    if (!chromiumInstalled()) {
        console.error(
            "A PDF needs Chromium (sudo apt-get install chromium); " +
                "or write --out welcome-sheets.html and print it from a browser.",
        );
        process.exit(1);
    }
    printToPdf(html, out);
} else {
    writeFileSync(out, html, { mode: 0o600 });
}
// The sheets hold the links, each a key to an account until it is used.
chmodSync(out, 0o600);
console.log(`Wrote ${model.members.length} welcome sheets to ${out}; each link works once.`);
