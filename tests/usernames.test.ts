/**
 * Usernames against Prosody's own nodeprep (util.encodings, run with lua5.4): the validator's idea
 * of which usernames share an account is the server's, and a username it accepts is stored as
 * written, so two accepted usernames are always two accounts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { accountKey, usernameProblem } from "../model/usernames";
import { nodeprepUnavailable, prosodyNodeprep } from "./support/nodeprep";
import { missingTools } from "./support/tools";

const skip = missingTools([["lua5.4", "lua5.4"]], nodeprepUnavailable());

/** Letters of one script each, with the characters nodeprep folds among them. */
const SCRIPTS: readonly string[][] = [
    [..."abcdefghijklmnopqrstuvwxyzåäöøæñüşğéıABCZßſﬁﬂµǅİªａｚＡ０ʰℂᴬꞁ"],
    [..."αβγδεζηθικλμνξοπρστυφχψωΣΑςΐᾳϐϑ"],
    [..."абвгдежзийклмнопрстуфхцчшщъыьэюяёАЯᲀ"],
    [..."אבגדהוזחטיכלמנסעפצקרשתײשׁ"],
    [..."ابتثجحخدذرسشصضطظعغفقكلمنهويءٱݐﻼ٣٤"],
    [..."李小龙王明漢字ひらがなカタカナー김박이ㄅㄆ"],
];
/** Characters that hide or fold into others, and some an address cannot have. */
const TRICKY = [
    ..."0123456789._-",
    "\u3164",
    "\u115F",
    "\u200B",
    "\u00AD",
    "\u2060",
    "\uFEFF",
    "\u200D",
].concat(["\u034F", "\u0301", "e\u0301", "①", "㎏", "Ⅻ", " ", "@", "ꭰ", "Ꭰ", "𝐚", "ﬃ"]);

const oneScript = fc
    .constantFrom(...SCRIPTS)
    .chain((letters) =>
        fc.array(
            fc.oneof(
                { weight: 6, arbitrary: fc.constantFrom(...letters) },
                fc.constantFrom(..."0123456789._-"),
            ),
            {
                minLength: 1,
                maxLength: 10,
            },
        ),
    )
    .map((characters) => characters.join(""));
const anything = fc
    .array(
        fc.oneof(
            fc.constantFrom(...SCRIPTS.flat(), ...TRICKY),
            fc.string({ unit: "grapheme", maxLength: 1 }),
        ),
        {
            minLength: 1,
            maxLength: 10,
        },
    )
    .map((characters) => characters.join(""));
const usernames = fc.array(fc.oneof(oneScript, anything), { minLength: 200, maxLength: 200 });

describe("usernames as Prosody prepares them (nodeprep)", { skip }, () => {
    it("fold the way Prosody folds them: ß, ſ, ﬁ, final ς, full-width letters …", () => {
        const examples = ["groß", "ſven", "ﬁle", "οδυσσευς", "ａｎｎａ", "Anna", "İlker", "ǅemal"];
        assert.deepEqual(examples.map(accountKey), prosodyNodeprep(examples));
    });

    it("land in the account Prosody would use, for every username of Unicode 3.2's characters", () => {
        fc.assert(
            fc.property(usernames, (names) => {
                const strict = prosodyNodeprep(names, true);
                names.forEach((name, index) => {
                    if (strict[index] !== null) assert.equal(accountKey(name), strict[index], name);
                });
            }),
            { numRuns: 15 },
        );
    });

    it("are accepted only as Prosody stores them, so two accepted usernames are two accounts", () => {
        let accepted = 0;
        fc.assert(
            fc.property(usernames, (names) => {
                const prepared = prosodyNodeprep(names);
                names.forEach((name, index) => {
                    if (usernameProblem(name) !== undefined) return;
                    accepted++;
                    assert.equal(
                        prepared[index],
                        name,
                        `${name} is accepted, but Prosody stores it otherwise`,
                    );
                });
            }),
            { numRuns: 15 },
        );
        assert.ok(accepted > 300, `only ${accepted} generated usernames were accepted`);
    });
});
