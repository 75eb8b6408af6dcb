import { isIPv4, isIPv6 } from "node:net";
import { SSH_KEY_TYPES } from "./known-values";
import { codePointLabel, describeRefused, quoted, refusedNameCharacter } from "./text";

/**
 * Small checks, each returning what is wrong in plain words (or undefined when the value is fine).
 * The callers put the config key in front of the text.
 */

/**
 * Host names take letters, digits and hyphens; names of records such as SPF includes and DKIM
 * keys may also hold underscores (`_spf.example.net`), which `allowUnderscore` accepts.
 */
export function dnsNameProblem(name: string, allowUnderscore = false): string | undefined {
    if (name !== name.trim()) return `${quoted(name)} has spaces around it`;
    if (name.endsWith("."))
        return `${quoted(name)} ends with a dot; write ${quoted(name.replace(/\.+$/, ""))}`;
    if (/[^\x00-\x7f]/.test(name)) {
        return (
            `${quoted(name)} has non-ASCII letters; write the domain in its punycode form ` +
            '(the "xn--" name your registrar shows)'
        );
    }
    if ((allowUnderscore ? /[^A-Za-z0-9._-]/ : /[^A-Za-z0-9.-]/).test(name)) {
        return (
            `${quoted(name)} may only contain letters a-z, digits, hyphens` +
            `${allowUnderscore ? ", underscores" : ""} and dots`
        );
    }
    if (name !== name.toLowerCase())
        return `${quoted(name)} has uppercase letters; write ${quoted(name.toLowerCase())}`;
    if (name.length > 253) return `${quoted(name)} is longer than the 253 characters a DNS name may have`;
    const labels = name.split(".");
    if (labels.length < 2)
        return `${quoted(name)} is not a full domain name; write something like "johansson.me"`;
    for (const label of labels) {
        if (label.length === 0) return `${quoted(name)} has an empty part between dots`;
        if (label.length > 63)
            return `${quoted(name)} has a part longer than 63 characters (${quoted(label)})`;
        if (/^[-]|[-]$/.test(label)) {
            return `${quoted(name)} has a part that starts or ends with a hyphen (${quoted(label)})`;
        }
    }
    if (/^[0-9]+$/.test(labels[labels.length - 1]))
        return `${quoted(name)} looks like an IP address, not a domain name`;
    return undefined;
}

/** Is `name` equal to `zone` or inside it? */
export function isWithinZone(name: string, zone: string): boolean {
    return name === zone || name.endsWith(`.${zone}`);
}

/**
 * Display and group names reach every member's app in roster and room XML, and the shared-roster
 * file one line each: plain visible text only (see refusedNameCharacter), no line breaks.
 */
export function displayNameProblem(name: string): string | undefined {
    if (name.trim().length === 0) return 'is empty; write the name the family should see, e.g. "Mormor Åsa"';
    if ([...name].length > 64) return `${quoted(name)} is longer than 64 characters`;
    const refused = refusedNameCharacter(name);
    if (refused) return `${quoted(name)} ${describeRefused(refused)}; remove it`;
    if (name !== name.trim()) return `${quoted(name)} has spaces around it`;
    return undefined;
}

export function groupNameProblem(name: string): string | undefined {
    const asDisplayName = displayNameProblem(name);
    if (asDisplayName) return asDisplayName;
    if (/[[\]]/.test(name))
        return `${quoted(name)} contains "[" or "]", which the shared-roster file uses around group names`;
    if (name.startsWith("+"))
        return `${quoted(name)} starts with "+", which would show the group to every account on the server`;
    return undefined;
}

/** Longer than any OpenSSH public key (an RSA key of 16384 bits is about 2,800 characters). */
const SSH_KEY_MAX_LENGTH = 8192;
/** What authorized_keys accepts in front of a key; config entries are the key alone. */
const AUTHORIZED_KEYS_OPTION = new RegExp(
    "^(?:agent-forwarding|cert-authority|command=|environment=|expiry-time=|from=|no-[a-z0-9-]+|" +
        "permitlisten=|permitopen=|port-forwarding|principals=|pty|restrict|tunnel=|user-rc|" +
        "verify-required|x11-forwarding)",
    "i",
);

/**
 * Each entry becomes one line of root's authorized_keys: exactly one OpenSSH public key
 * ("<type> <base64> [comment]") on one line, with no options in front.
 */
export function sshPublicKeyProblem(key: string): string | undefined {
    if (key.length > SSH_KEY_MAX_LENGTH)
        return `is ${key.length} characters long, longer than any OpenSSH public key`;
    const characters = [...key];
    const lineBreak = characters.findIndex((char) => /[\n\r\p{Zl}\p{Zp}]/u.test(char));
    if (lineBreak >= 0) {
        return (
            `contains a line break (${codePointLabel(characters[lineBreak])} ` +
            `at character ${lineBreak + 1}): ` +
            "each entry must be exactly one key on one line, as a second line would be a second, " +
            "unchecked key for root; list each key as an entry of its own"
        );
    }
    const hidden = characters.findIndex((char) => /[\p{Cc}\p{Cf}]/u.test(char));
    if (hidden >= 0) {
        return (
            `contains ${codePointLabel(characters[hidden])} at character ${hidden + 1}, ` +
            "a control or invisible character; paste the key from its .pub file again"
        );
    }
    const parts = key.trim().split(/ +/);
    const [type, blob] = parts;
    if (AUTHORIZED_KEYS_OPTION.test(type) && !(SSH_KEY_TYPES as readonly string[]).includes(type)) {
        return (
            `starts with authorized_keys options (${quoted(type)}); give the key alone ` +
            '("<type> <base64> [comment]"): options such as command= or cert-authority are not allowed'
        );
    }
    if (parts.length < 2)
        return (
            'is not an OpenSSH public key line ("<type> <base64> [comment]"), ' +
            "e.g. the contents of ~/.ssh/id_ed25519.pub"
        );
    if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
        if (type.startsWith("-----"))
            return "is a PEM block; give the one-line OpenSSH public key (the .pub file)";
        return `has key type ${quoted(type)}; expected one of ${SSH_KEY_TYPES.join(", ")}`;
    }
    const body = Buffer.from(blob, "base64");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || body.toString("base64") !== blob)
        return "has a key body that is not base64";
    const fields = sshWireFields(body);
    const complete =
        fields !== undefined && fields.length >= 2 && (type !== "ssh-ed25519" || fields[1].length === 32);
    if (!complete || fields[0].toString("latin1") !== type) {
        return `is damaged: its body does not hold a "${type}" key (copied incompletely?)`;
    }
    if (key.includes("PRIVATE KEY")) return "looks like a private key; never put a private key in config";
    return undefined;
}

/** The length-prefixed fields of an SSH public key blob, or undefined if they do not fill it exactly. */
function sshWireFields(blob: Buffer): Buffer[] | undefined {
    const fields: Buffer[] = [];
    let offset = 0;
    while (offset < blob.length) {
        if (offset + 4 > blob.length) return undefined;
        const length = blob.readUInt32BE(offset);
        if (offset + 4 + length > blob.length) return undefined;
        fields.push(blob.subarray(offset + 4, offset + 4 + length));
        offset += 4 + length;
    }
    return fields;
}

/** Hetzner's firewall wants network addresses: host bits set are a mistake worth pointing out. */
export function cidrProblem(cidr: string): string | undefined {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
    if (!match) return `${quoted(cidr)} is not in CIDR form; write e.g. "203.0.113.7/32" or "2001:db8::/48"`;
    const [, address, prefixText] = match;
    const prefix = Number(prefixText);
    if (isIPv4(address)) {
        if (prefix > 32) return `${quoted(cidr)} has a prefix longer than /32`;
        const network = ipv4Network(address, prefix);
        if (network !== address)
            return `${quoted(cidr)} has host bits set; the network is "${network}/${prefix}"`;
        return undefined;
    }
    if (isIPv6(address)) {
        if (prefix > 128) return `${quoted(cidr)} has a prefix longer than /128`;
        return undefined;
    }
    return `${quoted(cidr)} does not start with an IPv4 or IPv6 address`;
}

function ipv4Network(address: string, prefix: number): string {
    const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
    const size = 2 ** (32 - prefix);
    const network = Math.floor(value / size) * size;
    return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The closest candidate by edit distance, to suggest "did you mean …?" for typos. */
export function closest(value: string, candidates: readonly string[]): string | undefined {
    // A typo is short: a long value is no misspelt key (and would cost much to compare).
    if (value.length > 64) return undefined;
    let best: { candidate: string; distance: number } | undefined;
    for (const candidate of candidates) {
        const distance = editDistance(value.toLowerCase(), candidate.toLowerCase());
        if (!best || distance < best.distance) best = { candidate, distance };
    }
    return best && best.distance <= Math.max(2, Math.floor(value.length / 3)) ? best.candidate : undefined;
}

function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
            );
        }
        previous = current;
    }
    return previous[b.length];
}
