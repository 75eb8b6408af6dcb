import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerHost } from "./layout";

const TEMPLATE_DIR = join(__dirname, "..", "config-templates");
const PLACEHOLDER = /\{\{ ([A-Z0-9_]+) \}\}/g;

/**
 * Fills the `{{ NAME }}` placeholders of a file from config-templates/. A placeholder without a
 * value, or a value no placeholder asks for, is a bug in this stack, never a user error.
 */
export function fillTemplate(templateName: string, values: Readonly<Record<string, string>>): string {
    const template = readFileSync(join(TEMPLATE_DIR, templateName), "utf8");
    const used = new Set<string>();
    const filled = template.replace(PLACEHOLDER, (_, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`template ${templateName}: no value for {{ ${name} }}`);
        used.add(name);
        return value;
    });
    const unused = Object.keys(values).filter((name) => !used.has(name));
    if (unused.length > 0)
        throw new Error(`template ${templateName}: no placeholder for ${unused.join(", ")}`);
    return filled;
}

/**
 * A shell script from config-templates/, with the project's shell library (config-templates/lib.sh)
 * put in after its header comment, so that each script runs on its own, on the server or locally.
 */
export function renderScript(
    templateName: string,
    values: Readonly<Record<string, string>>,
    host: ServerHost,
): string {
    const lines = fillTemplate(templateName, values).split("\n");
    const headerEnd = lines.findIndex((line) => !line.startsWith("#"));
    const library = fillTemplate("lib.sh", { PROSODYCTL: host.commands.prosodyctl }).trimEnd();
    return [...lines.slice(0, headerEnd), "", library, "", ...lines.slice(headerEnd)].join("\n");
}

/** A double-quoted Lua string literal. */
export function luaString(value: string): string {
    // Control characters as decimal escapes: a raw line break ends a Lua string with an error.
    const escaped = value
        .replace(/\\/g, "\\\\")
        .replace(/"/g, '\\"')
        .replace(/[\x00-\x1f\x7f]/g, (char) => `\\${String(char.charCodeAt(0)).padStart(3, "0")}`);
    return `"${escaped}"`;
}

/** A single-quoted POSIX shell word. */
export function shellWord(value: string): string {
    return `'${value.replace(/'/g, "'\\''")}'`;
}

/** Content as base64 in 76-character lines, for a quoted here-document in a provisioning script. */
export function base64Lines(content: string): string {
    return Buffer.from(content, "utf8")
        .toString("base64")
        .replace(/.{1,76}/g, "$&\n");
}
