import { load } from "js-yaml";
import { CONFIG_NAMESPACE } from "./known-values";
import { isRecord } from "./rules";

const PREFIX = `${CONFIG_NAMESPACE}:`;

/**
 * The plain `family-xmpp:*` values of a stack config file (Pulumi.<stack>.yaml), keys without the
 * namespace. Used where no Pulumi engine runs: `npm run render`, `npm start`, tests.
 */
export function rawConfigFromStackFile(yamlText: string): Record<string, unknown> {
    const document = load(yamlText);
    const config = isRecord(document) && isRecord(document.config) ? document.config : {};
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith(PREFIX)) raw[key.slice(PREFIX.length)] = value;
    }
    return raw;
}

/**
 * The same values as the Pulumi engine hands them to a program (`pulumi.runtime.allConfig()`):
 * every value is a string, and structured values (lists, objects, numbers, booleans) are JSON.
 */
export function rawConfigFromEngine(allConfig: Readonly<Record<string, string>>): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(allConfig)) {
        if (!key.startsWith(PREFIX)) continue;
        raw[key.slice(PREFIX.length)] = parseEngineValue(text);
    }
    return raw;
}

function parseEngineValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
