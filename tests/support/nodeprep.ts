import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Where Debian's Prosody keeps util.encodings, its binding to libidn's stringprep. */
const PROSODY_LIBRARIES = "/usr/lib/prosody";

/** Why Prosody's own nodeprep cannot run here, or undefined. */
export function nodeprepUnavailable(): string | undefined {
    return existsSync(`${PROSODY_LIBRARIES}/util/encodings.so`)
        ? undefined
        : `${PROSODY_LIBRARIES}/util/encodings.so is missing (apt-get install prosody)`;
}

/**
 * Reads hex-encoded names, one a line, and writes each one's nodeprep, hex-encoded, or "-" (with
 * `strict` set before it).
 */
const NODEPREP_LUA = `
package.cpath = "${PROSODY_LIBRARIES}/?.so;" .. package.cpath
local nodeprep = require "util.encodings".stringprep.nodeprep
for line in io.lines() do
    local name = line:gsub("%x%x", function (h) return string.char(tonumber(h, 16)) end)
    local prepped = nodeprep(name, strict)
    io.write(prepped and (prepped:gsub(".", function (c) return ("%02x"):format(c:byte()) end)) or "-", "\\n")
end
`;

/**
 * What Prosody makes of each username (util.encodings' nodeprep, the function it applies before
 * every account lookup): the prepared username, or null where nodeprep refuses it. `strict` also
 * refuses characters Unicode 3.2 had not assigned.
 */
export function prosodyNodeprep(usernames: readonly string[], strict = false): (string | null)[] {
    const input = usernames.map((name) => `${Buffer.from(name, "utf8").toString("hex")}\n`).join("");
    const script = `local strict = ${strict}\n${NODEPREP_LUA}`;
    const run = spawnSync("lua5.4", ["-e", script], { input, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`lua5.4 failed: ${run.stderr}`);
    return run.stdout
        .replace(/\n$/, "")
        .split("\n")
        .map((line) => (line === "-" ? null : Buffer.from(line, "hex").toString("utf8")));
}
