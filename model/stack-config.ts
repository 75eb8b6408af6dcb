import { load } from "js-yaml";
import { CONFIG_NAMESPACE } from "./known-values";
import { isRecord } from "./rules";

const PREFIX = `${CONFIG_NAMESPACE}:`;

/**
 * The config as data only: objects without a prototype (a key such as `__proto__` or `constructor`
 * is a key like any other, so the validator reports it as unknown instead of it changing what
 * every other key reads), lists as lists, anything else as it came. A value the YAML reuses
 * (anchors and aliases) is copied once, so aliases cannot multiply the work.
 */
function plainData(value: unknown, copies = new Map<object, unknown>()): unknown {
    if (typeof value !== "object" || value === null) return value;
    const known = copies.get(value);
    if (known !== undefined) return known;
    if (Array.isArray(value)) {
        const list: unknown[] = [];
        copies.set(value, list);
        for (const item of value) list.push(plainData(item, copies));
        return list;
    }
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return value;
    const record = newRecord();
    copies.set(value, record);
    for (const key of Object.keys(value)) setKey(record, key, plainData((value as never)[key], copies));
    return record;
}

function newRecord(): Record<string, unknown> {
    return Object.create(null) as Record<string, unknown>;
}

/** Sets an own property, whatever its name (plain assignment to `__proto__` would not). */
function setKey(record: Record<string, unknown>, key: string, value: unknown): void {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The plain `family-xmpp:*` values of a stack config file (Pulumi.<stack>.yaml), keys without the
 * namespace. Used where no Pulumi engine runs: `npm run render`, `npm start`, tests.
 */
export function rawConfigFromStackFile(yamlText: string): Record<string, unknown> {
    const document = plainData(load(yamlText));
    const config = isRecord(document) && isRecord(document.config) ? document.config : newRecord();
    const raw = newRecord();
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith(PREFIX)) setKey(raw, key.slice(PREFIX.length), value);
    }
    return raw;
}

/**
 * The same values as the Pulumi engine hands them to a program (`pulumi.runtime.allConfig()`):
 * every value is a string, and structured values (lists, objects, numbers, booleans) are JSON.
 */
export function rawConfigFromEngine(allConfig: Readonly<Record<string, string>>): Record<string, unknown> {
    const raw = newRecord();
    for (const [key, text] of Object.entries(allConfig)) {
        if (!key.startsWith(PREFIX)) continue;
        setKey(raw, key.slice(PREFIX.length), plainData(parseEngineValue(text)));
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
