import { codePointLabel, quoted } from "./text";

/**
 * Usernames, and which of them land in the same account. Prosody prepares every username with
 * XMPP's nodeprep (RFC 3920's stringprep profile, Unicode 3.2) before it looks an account up: it
 * drops some invisible characters, folds case (ß to ss, final ς to σ), and applies NFKC (ſ to s, ﬁ
 * to fi, full-width letters to plain ones). `accountKey` does the same; the validator then accepts
 * only usernames that are already in that form, written in one script, so two accepted usernames
 * are two accounts. tests/usernames.test.ts checks both against Prosody's own nodeprep.
 */

/** RFC 3454 table B.1: characters nodeprep removes. */
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;

/**
 * Case folds Unicode added after 3.2, which nodeprep does not make: dotless ı (never folded by B.2),
 * Cyrillic palochka, Georgian capitals, Cherokee, turned F and reversed C.
 */
const NOT_FOLDED_IN_UNICODE_3_2 = /[\u0131\u04C0\u10A0-\u10C5\u13A0-\u13F4\u2132\u2183]/u;

/** Five CJK compatibility ideographs Unicode decomposed differently in 3.2 (Corrigendum #4). */
const UNICODE_3_2_DECOMPOSITIONS: Readonly<Record<string, string>> = {
    "\u{2F868}": "\u{2136A}",
    "\u{2F874}": "\u5F33",
    "\u{2F91F}": "\u43AB",
    "\u{2F95F}": "\u7AAE",
    "\u{2F9BF}": "\u4D57",
};

/**
 * RFC 3454 table B.2 (case folding), one character at a time: context-free, unlike toLowerCase,
 * which writes a final σ as ς.
 */
function caseFold(text: string): string {
    return [...text]
        .map((char) =>
            NOT_FOLDED_IN_UNICODE_3_2.test(char)
                ? char
                : (UNICODE_3_2_DECOMPOSITIONS[char] ?? char.toUpperCase().toLowerCase()),
        )
        .join("");
}

/** The account a username lands in: two usernames with the same key are one account on the server. */
export function accountKey(username: string): string {
    let key = username.replace(MAPPED_TO_NOTHING, "");
    // B.2 includes what NFKC would fold again (ℂ to c): folding until nothing changes does the same.
    for (let round = 0; round < 4; round++) {
        const next = caseFold(key).normalize("NFKC");
        if (next === key) break;
        key = next;
    }
    return key;
}

/**
 * Scripts a username may be written in: Unicode's "recommended" scripts for identifiers (UAX #31),
 * the scripts of the world's living languages. Letters from other scripts, or from none (modifier
 * letters such as ʼ), are refused.
 */
const SCRIPTS = [
    "Latin",
    "Greek",
    "Cyrillic",
    "Armenian",
    "Georgian",
    "Hebrew",
    "Arabic",
    "Thaana",
    "Ethiopic",
    "Devanagari",
    "Bengali",
    "Gurmukhi",
    "Gujarati",
    "Oriya",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Sinhala",
    "Thai",
    "Lao",
    "Tibetan",
    "Myanmar",
    "Khmer",
    "Hangul",
    "Hiragana",
    "Katakana",
    "Bopomofo",
    "Han",
] as const;
const SCRIPT_PATTERNS = SCRIPTS.map((script) => ({ script, pattern: new RegExp(`\\p{scx=${script}}`, "u") }));

/** Scripts written together (UTS #39): Japanese, Korean and Chinese mix Han with their own. */
const WRITTEN_WITH: Readonly<Record<string, readonly string[]>> = {
    Han: ["Han", "Japanese", "Korean", "Chinese"],
    Hiragana: ["Hiragana", "Japanese"],
    Katakana: ["Katakana", "Japanese"],
    Hangul: ["Hangul", "Korean"],
    Bopomofo: ["Bopomofo", "Chinese"],
};

const RIGHT_TO_LEFT = /[\p{scx=Hebrew}\p{scx=Arabic}\p{scx=Thaana}]/u;
/**
 * The right-to-left letters Unicode 3.2 had: nodeprep's bidi rule (RFC 3454 §6) knows only these,
 * and refuses a right-to-left username that starts or ends with anything else.
 */
const KNOWN_RIGHT_TO_LEFT_LETTER = new RegExp(
    "[\\u05D0-\\u05EA\\u05F0-\\u05F2" + // Hebrew
        "\\u0621-\\u063A\\u0640-\\u064A\\u066E\\u066F\\u0671-\\u06D3\\u06D5" + // Arabic
        "\\u06E5\\u06E6\\u06FA-\\u06FC\\uFE73" +
        "\\u0780-\\u07A5\\u07B1]", // Thaana
    "u",
);

/** What any XMPP address cannot have in its username part (RFC 7622 and nodeprep). */
const XMPP_FORBIDDEN = /[@/\s"&'<>:]/u;
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}\p{Default_Ignorable_Code_Point}]/u;

/**
 * XMPP localparts (RFC 7622) allow much; a family stack allows what every client, shell and
 * storage backend handles the same way and what cannot be mistaken for another username:
 * lowercase letters of one script, digits, ".", "-", "_", in the form Prosody stores them.
 */
export function usernameProblem(username: string): string | undefined {
    if (username.length === 0) return 'is empty; write the part before the @, e.g. "anna"';
    if (Buffer.byteLength(username, "utf8") > 64) return `${quoted(username)} is longer than 64 bytes`;
    const characters = [...username];
    const invisible = characters.findIndex((char) => INVISIBLE.test(char) && !XMPP_FORBIDDEN.test(char));
    if (invisible >= 0) {
        return (
            `${quoted(username)} contains ${codePointLabel(characters[invisible])} at character ` +
            `${invisible + 1}, an invisible, formatting or unassigned character; ` +
            "type the username again by hand"
        );
    }
    if (XMPP_FORBIDDEN.test(username)) {
        return (
            `${quoted(username)} contains a character XMPP addresses cannot have in a username ` +
            `(@ / : " & ' < > or a space)`
        );
    }
    const key = accountKey(username);
    if (username !== username.toLowerCase()) {
        return (
            `${quoted(username)} has uppercase letters; XMPP usernames are case-insensitive, ` +
            `write ${quoted(key)}`
        );
    }
    if (key !== username) {
        return (
            `${quoted(username)} is stored by the server as ${quoted(key)} (XMPP's nodeprep folds ` +
            `ß, ſ, ligatures such as ﬁ, final ς and full-width letters into plain ones); write ${quoted(key)}`
        );
    }
    if (!/^[\p{Ll}\p{Lo}\p{Lm}\p{Nd}._-]+$/u.test(username)) {
        return `${quoted(username)} may only contain lowercase letters, digits, ".", "-" and "_"`;
    }
    if (/^[._-]|[._-]$/.test(username))
        return `${quoted(username)} must start and end with a letter or digit`;
    return scriptProblem(username, characters);
}

/** One script per username (or one of the mixes Japanese, Korean and Chinese use). */
function scriptProblem(username: string, characters: readonly string[]): string | undefined {
    let common: readonly string[] | undefined;
    let first: { char: string; script: string } | undefined;
    for (const [index, char] of characters.entries()) {
        const scripts = SCRIPT_PATTERNS.filter(({ pattern }) => pattern.test(char)).map(
            ({ script }) => script,
        );
        if (scripts.length === 0) {
            if (/\p{Nd}|[._-]/u.test(char) && /\p{scx=Common}/u.test(char)) continue;
            return (
                `${quoted(username)} contains ${codePointLabel(char)} at character ${index + 1}, ` +
                "a letter of no script or of a script not in everyday use; use the letters of one alphabet"
            );
        }
        const written = scripts.flatMap((script) => WRITTEN_WITH[script] ?? [script]);
        const shared = common === undefined ? written : common.filter((script) => written.includes(script));
        if (shared.length === 0) {
            return (
                `${quoted(username)} mixes scripts: ${quoted(char)} ` +
                `(${codePointLabel(char)}, ${scripts[0]}) at character ${index + 1} among ` +
                `${first?.script} letters such as ${quoted(first?.char ?? "")}; ` +
                "letters from two alphabets can make one username look like another, so use one"
            );
        }
        common = shared;
        first ??= { char, script: scripts[0] };
    }
    if (characters.some((char) => /\p{L}/u.test(char) && RIGHT_TO_LEFT.test(char))) {
        const unknown = characters.findIndex(
            (char) => /\p{L}/u.test(char) && !KNOWN_RIGHT_TO_LEFT_LETTER.test(char),
        );
        if (unknown >= 0) {
            return (
                `${quoted(username)} contains ${codePointLabel(characters[unknown])} at character ` +
                `${unknown + 1}, a letter the server's username rules (Unicode 3.2) do not know`
            );
        }
        if (!/\p{L}/u.test(characters[0]) || !/\p{L}/u.test(characters[characters.length - 1])) {
            return (
                `${quoted(username)} must start and end with a letter: the server refuses a ` +
                "right-to-left username that starts or ends with a digit or punctuation " +
                "(RFC 3454's bidi rule)"
            );
        }
    }
    return undefined;
}
