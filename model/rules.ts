import { isIPv4, isIPv6 } from "node:net";
import { SSH_KEY_TYPES } from "./known-values";

/**
 * Small checks, each returning what is wrong in plain words (or undefined when the value is fine).
 * The callers put the config key in front of the text.
 */

/**
 * Host names take letters, digits and hyphens; names of records such as SPF includes and DKIM
 * keys may also hold underscores (`_spf.example.net`), which `allowUnderscore` accepts.
 */
export function dnsNameProblem(name: string, allowUnderscore = false): string | undefined {
    if (name !== name.trim()) return `"${name}" has spaces around it`;
    if (name.endsWith(".")) return `"${name}" ends with a dot; write "${name.replace(/\.+$/, "")}"`;
    if (/[^\x00-\x7f]/.test(name)) {
        return (
            `"${name}" has non-ASCII letters; write the domain in its punycode form ` +
            '(the "xn--" name your registrar shows)'
        );
    }
    if ((allowUnderscore ? /[^A-Za-z0-9._-]/ : /[^A-Za-z0-9.-]/).test(name)) {
        return (
            `"${name}" may only contain letters a-z, digits, hyphens` +
            `${allowUnderscore ? ", underscores" : ""} and dots`
        );
    }
    if (name !== name.toLowerCase()) return `"${name}" has uppercase letters; write "${name.toLowerCase()}"`;
    if (name.length > 253) return `"${name}" is longer than the 253 characters a DNS name may have`;
    const labels = name.split(".");
    if (labels.length < 2) return `"${name}" is not a full domain name; write something like "johansson.me"`;
    for (const label of labels) {
        if (label.length === 0) return `"${name}" has an empty part between dots`;
        if (label.length > 63) return `"${name}" has a part longer than 63 characters ("${label}")`;
        if (/^[-]|[-]$/.test(label)) {
            return `"${name}" has a part that starts or ends with a hyphen ("${label}")`;
        }
    }
    if (/^[0-9]+$/.test(labels[labels.length - 1]))
        return `"${name}" looks like an IP address, not a domain name`;
    return undefined;
}

/** Is `name` equal to `zone` or inside it? */
export function isWithinZone(name: string, zone: string): boolean {
    return name === zone || name.endsWith(`.${zone}`);
}

/**
 * XMPP localparts (RFC 7622) allow much; a family stack allows what every client, shell and
 * storage backend handles the same way: lowercase letters of any script, digits, ".", "-", "_".
 */
export function usernameProblem(username: string): string | undefined {
    if (username.length === 0) return 'is empty; write the part before the @, e.g. "anna"';
    if (username !== username.normalize("NFC"))
        return `"${username}" is not in Unicode normal form C; retype it`;
    if (username !== username.toLowerCase()) {
        return (
            `"${username}" has uppercase letters; XMPP usernames are case-insensitive, ` +
            `write "${username.toLowerCase()}"`
        );
    }
    if (/[@/\s"&'<>:]/u.test(username)) {
        return (
            `"${username}" contains a character XMPP addresses cannot have in a username ` +
            `(@ / : " & ' < > or a space)`
        );
    }
    if (!/^[\p{Ll}\p{Lo}\p{Lm}\p{Nd}._-]+$/u.test(username)) {
        return `"${username}" may only contain lowercase letters, digits, ".", "-" and "_"`;
    }
    if (/^[._-]|[._-]$/.test(username)) return `"${username}" must start and end with a letter or digit`;
    if (Buffer.byteLength(username, "utf8") > 64) return `"${username}" is longer than 64 bytes`;
    return undefined;
}

/**
 * The account a username lands in: two usernames with the same key are one account on the server.
 */
export function accountKey(username: string): string {
    return username.normalize("NFKC").toLowerCase();
}

/** Names end up in the shared-roster groups file, one line each: no line breaks, no control characters. */
export function displayNameProblem(name: string): string | undefined {
    if (name.trim().length === 0) return 'is empty; write the name the family should see, e.g. "Mormor Åsa"';
    if (/\p{Cc}/u.test(name)) return `"${name}" contains a line break or another control character`;
    if (name !== name.trim()) return `"${name}" has spaces around it`;
    if (name.length > 64) return `"${name}" is longer than 64 characters`;
    return undefined;
}

export function groupNameProblem(name: string): string | undefined {
    const asDisplayName = displayNameProblem(name);
    if (asDisplayName) return asDisplayName;
    if (/[[\]]/.test(name))
        return `"${name}" contains "[" or "]", which the shared-roster file uses around group names`;
    if (name.startsWith("+"))
        return `"${name}" starts with "+", which would show the group to every account on the server`;
    return undefined;
}

export function sshPublicKeyProblem(key: string): string | undefined {
    const parts = key.trim().split(/\s+/);
    const [type, blob] = parts;
    if (parts.length < 2)
        return (
            'is not an OpenSSH public key line ("<type> <base64> [comment]"), ' +
            "e.g. the contents of ~/.ssh/id_ed25519.pub"
        );
    if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
        if (type.startsWith("-----"))
            return "is a PEM block; give the one-line OpenSSH public key (the .pub file)";
        return `has key type "${type}"; expected one of ${SSH_KEY_TYPES.join(", ")}`;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return "has a key body that is not base64";
    const fields = sshWireFields(Buffer.from(blob, "base64"));
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
    if (!match) return `"${cidr}" is not in CIDR form; write e.g. "203.0.113.7/32" or "2001:db8::/48"`;
    const [, address, prefixText] = match;
    const prefix = Number(prefixText);
    if (isIPv4(address)) {
        if (prefix > 32) return `"${cidr}" has a prefix longer than /32`;
        const network = ipv4Network(address, prefix);
        if (network !== address) return `"${cidr}" has host bits set; the network is "${network}/${prefix}"`;
        return undefined;
    }
    if (isIPv6(address)) {
        if (prefix > 128) return `"${cidr}" has a prefix longer than /128`;
        return undefined;
    }
    return `"${cidr}" does not start with an IPv4 or IPv6 address`;
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
