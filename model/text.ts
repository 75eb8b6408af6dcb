/**
 * Text from the config as people read it: in messages about the config (quoted, cut short, invisible
 * characters made visible) and in the family's apps (display and group names, which must be text
 * that every XML parser accepts and that shows what it says).
 */

/** Messages show at most this many characters of a value. */
const SHOWN_CHARACTERS = 60;

/** Characters a reader cannot see or that change how the text around them looks. */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]|(?! )\p{Zs}/u;

/** `U+202E`: how messages name a character. */
export function codePointLabel(char: string): string {
    return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** The first 60 characters of a value, hidden ones written as `\u{202E}`; and whether it was cut. */
function visiblePart(value: string): { text: string; length?: number } {
    const characters = [...value];
    const text = characters
        .slice(0, SHOWN_CHARACTERS)
        .map((char) => (HIDDEN.test(char) ? `\\u{${codePointLabel(char).slice(2)}}` : char))
        .join("");
    return characters.length > SHOWN_CHARACTERS ? { text, length: characters.length } : { text };
}

/**
 * A value as a message shows it: hidden characters made visible, and cut after 60 characters (with
 * the full length), so that a 100,000-character value never comes back whole.
 */
export function shown(value: string): string {
    const { text, length } = visiblePart(value);
    return length === undefined ? text : `${text}… (${length} characters)`;
}

/** A value in a message: in double quotes, as `shown` writes it. */
export function quoted(value: string): string {
    const { text, length } = visiblePart(value);
    return length === undefined ? `"${text}"` : `"${text}…" (${length} characters)`;
}

/** A config value as a message names it: text quoted, other values by their kind. */
export function describe(value: unknown): string {
    if (Array.isArray(value)) return "a list";
    if (value === null) return "an empty value";
    if (typeof value === "object") return "an object";
    if (typeof value === "string") return quoted(value);
    return String(value);
}

/** A character that text must not hold, where it is (1 for the first), and why. */
export interface RefusedCharacter {
    readonly char: string;
    readonly position: number;
    readonly why: string;
}

/** "contains U+202E at character 5 (a bidi control, …)": the part of a message naming the character. */
export function describeRefused({ char, position, why }: RefusedCharacter): string {
    return `contains ${codePointLabel(char)} at character ${position} (${why})`;
}

/** What joins two visible characters: letters, marks, digits, emoji and their modifiers. */
const JOINABLE = /[\p{L}\p{M}\p{N}\p{Extended_Pictographic}\p{Emoji_Modifier}]/u;
const JOINERS = /[\u200C\u200D]/u;
const VARIATION_SELECTORS = /[\uFE00-\uFE0F\u{E0100}-\u{E01EF}\u180B-\u180D\u180F]/u;

/**
 * Why `char` (at index `index` of `characters`) has no place in a name shown in the family's apps,
 * or undefined. Zero-width joiners stay where they join two visible characters (emoji sequences
 * such as 👨‍👩‍👧, Persian and Indic words), variation selectors after a visible character.
 */
function namePartProblem(characters: readonly string[], index: number): string | undefined {
    const char = characters[index];
    if (char === "\n" || char === "\r") return "a line break";
    if (/\p{Cc}/u.test(char)) return "a control character";
    if (/\p{Zl}|\p{Zp}/u.test(char)) return "a line or paragraph separator, which breaks lines in apps";
    if (/\p{Cs}/u.test(char)) return "half of a character (a lone surrogate), which XML cannot carry";
    if (/\p{Noncharacter_Code_Point}/u.test(char)) return "a noncharacter, which XML 1.0 does not allow";
    if (/\p{Bidi_Control}/u.test(char)) return "a bidi control, which reorders the text around it";
    const before = characters[index - 1] ?? "";
    const after = characters[index + 1] ?? "";
    if (JOINERS.test(char)) {
        const joinsVisible =
            (JOINABLE.test(before) || VARIATION_SELECTORS.test(before)) && JOINABLE.test(after);
        return joinsVisible ? undefined : "a zero-width joiner outside a word or an emoji";
    }
    if (VARIATION_SELECTORS.test(char))
        return JOINABLE.test(before) ? undefined : "a variation selector without a character to vary";
    if (/\p{Cf}/u.test(char)) return "an invisible formatting character";
    if (/\p{Default_Ignorable_Code_Point}/u.test(char)) return "an invisible character";
    if (/\p{Co}/u.test(char)) return "a private-use character, which every device shows differently";
    if (/\p{Cn}/u.test(char)) return "a code point Unicode has not assigned";
    if (/\p{Zs}/u.test(char) && char !== " ") return "a special space; use a plain space";
    return undefined;
}

/** The first character of a name that is not plain, visible text, or undefined. */
export function refusedNameCharacter(name: string): RefusedCharacter | undefined {
    const characters = [...name];
    for (let index = 0; index < characters.length; index++) {
        const why = namePartProblem(characters, index);
        if (why) return { char: characters[index], position: index + 1, why };
    }
    return undefined;
}
