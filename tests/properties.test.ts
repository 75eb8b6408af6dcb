/**
 * Properties of the functions that carry open-ended text from the config into files and commands:
 * whatever the input, the receiving side reads back exactly what was meant. Checked with
 * fast-check on generated inputs, each against the real reader (sh, Lua, the YAML parser cloud-init
 * uses, a DNS zone-file reader) where there is one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import fc from "fast-check";
import { load } from "js-yaml";
import { cidrProblem } from "../model/rules";
import { hetznerVolumeDevice, renderCloudInit } from "../render/cloud-init";
import { txtCharacterStrings } from "../render/dns";
import { renderGroupsFile } from "../render/prosody";
import { familyRooms, renderFamilyFile } from "../render/rooms";
import { luaString, shellWord } from "../render/template";
import { readCloudConfig } from "./support/cloud-config";
import { devFamily } from "./support/families";
import { hasTool } from "./support/tools";

/** Characters that quoting gets wrong first: quotes, escapes, line ends, multi-byte letters. */
const tricky = fc.constantFrom("'", '"', "\\", "\n", "\r", "\t", "$", "`", "]]", "é", "😀", "\u2028", " ");
/** Any text but NUL, which neither a shell argument nor a C string can hold. */
const text = fc
    .string({ unit: fc.oneof(tricky, fc.string({ unit: "binary", maxLength: 1 })), maxLength: 40 })
    .map((value) => value.replace(/\0/g, ""));
const RUNS = { numRuns: 150 };

describe("quoting", () => {
    it("shellWord: sh reads back exactly the text it was given", (t) => {
        if (!hasTool(t, "sh", "dash")) return;
        fc.assert(
            fc.property(text, (value) => {
                const echoed = spawnSync("sh", ["-c", `printf '%s' ${shellWord(value)}`], {
                    encoding: "utf8",
                });
                assert.equal(echoed.stdout, value);
            }),
            RUNS,
        );
    });

    it("luaString: Lua reads back exactly the text it was given", (t) => {
        if (!hasTool(t, "lua5.4", "lua5.4")) return;
        fc.assert(
            fc.property(text, (value) => {
                const echoed = spawnSync("lua5.4", ["-e", `io.write(${luaString(value)})`], {
                    encoding: "utf8",
                });
                assert.equal(echoed.status, 0, echoed.stderr);
                assert.equal(echoed.stdout, value);
            }),
            RUNS,
        );
    });

    it("the user data: cloud-init's YAML reader gets every member's name back as it was written", () => {
        // Display names as the validator lets them through: no control characters, no [ ].
        const name = fc
            .string({ unit: "grapheme", minLength: 1, maxLength: 20 })
            .filter((value) => value.trim() === value && value.length > 0 && !/[\p{Cc}[\]]/u.test(value));
        fc.assert(
            fc.property(name, (displayName) => {
                const family = devFamily();
                const model = {
                    ...family,
                    members: family.members.map((member, index) =>
                        index === 0 ? { ...member, name: displayName } : member,
                    ),
                };
                const userData = renderCloudInit(model, hetznerVolumeDevice("1"));
                const groups = readCloudConfig(userData).write_files.find((file) =>
                    file.path.endsWith("/family-groups.txt"),
                );
                assert.equal(groups?.content, renderGroupsFile(model));
                assert.ok(load(userData), "the user data is not YAML");
            }),
            { numRuns: 50 },
        );
    });
});

describe("DNS TXT values", () => {
    /** Reads RFC 1035 character strings back: the concatenated value, and each string's length in bytes. */
    function readCharacterStrings(data: string): { value: string; byteLengths: number[] } {
        const strings = [...data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) =>
            match[1].replace(/\\(.)/g, "$1"),
        );
        return {
            value: strings.join(""),
            byteLengths: strings.map((string) => Buffer.byteLength(string, "utf8")),
        };
    }

    it("are split into strings of at most 255 bytes that join back to the value", () => {
        const unit = fc.oneof(fc.constantFrom("é", "😀", '"', "\\", "a"), fc.string({ maxLength: 1 }));
        fc.assert(
            fc.property(fc.string({ unit, minLength: 200, maxLength: 700 }), (value) => {
                const read = readCharacterStrings(txtCharacterStrings(value));
                assert.equal(read.value, value);
                for (const length of read.byteLengths)
                    assert.ok(length <= 255, `a string of ${length} bytes`);
            }),
            RUNS,
        );
    });
});

describe("CIDRs", () => {
    const ipv4 = fc
        .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
        .map((octets) => octets.join("."));
    const toNumber = (address: string) =>
        address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);

    it("accept every IPv4 network with its prefix, and name the network when host bits are set", () => {
        fc.assert(
            fc.property(ipv4, fc.integer({ min: 0, max: 32 }), (address, prefix) => {
                const size = 2 ** (32 - prefix);
                const network = Math.floor(toNumber(address) / size) * size;
                const networkAddress = [24, 16, 8, 0]
                    .map((shift) => Math.floor(network / 2 ** shift) % 256)
                    .join(".");
                assert.equal(cidrProblem(`${networkAddress}/${prefix}`), undefined);
                if (networkAddress !== address) {
                    assert.match(
                        cidrProblem(`${address}/${prefix}`) ?? "",
                        new RegExp(`"${networkAddress}/${prefix}"`),
                    );
                }
            }),
            RUNS,
        );
    });
});

describe("room addresses", () => {
    it("are unique and plain a-z, 0-9 and hyphens for any set of group names", () => {
        const names = fc.uniqueArray(fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }), {
            minLength: 1,
            maxLength: 8,
            selector: (name) => name.toLowerCase(),
        });
        fc.assert(
            fc.property(names, (groupNames) => {
                const family = devFamily();
                const model = { ...family, groups: groupNames.map((name) => ({ name, members: ["pappa"] })) };
                const jids = familyRooms(model).map((room) => room.jid);
                assert.equal(new Set(jids).size, jids.length);
                for (const jid of jids) assert.match(jid, /^[a-z0-9]+(-[a-z0-9]+)*@conference\./);
                assert.deepEqual(JSON.parse(renderFamilyFile(model)).rooms, familyRooms(model));
            }),
            RUNS,
        );
    });
});
