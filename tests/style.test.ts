import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(__dirname, "..");
const MAX_LINE = 110;

describe("the code's style", () => {
    it(`has no line longer than ${MAX_LINE} characters in any tracked TypeScript file`, () => {
        const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: ROOT, encoding: "utf8" })
            .split("\n")
            .filter((file) => file !== "");
        assert.ok(files.length > 0, "git ls-files found no TypeScript files");
        const tooLong: string[] = [];
        for (const file of files) {
            readFileSync(join(ROOT, file), "utf8")
                .split("\n")
                .forEach((line, index) => {
                    // Characters, not UTF-16 units: "×" or "å" counts once.
                    const length = [...line].length;
                    if (length > MAX_LINE) tooLong.push(`${file}:${index + 1} (${length} characters)`);
                });
        }
        assert.deepEqual(
            tooLong,
            [],
            `lines longer than ${MAX_LINE} characters:\n${tooLong.map((at) => `  ${at}`).join("\n")}`,
        );
    });
});
