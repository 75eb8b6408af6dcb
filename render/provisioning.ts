import { FamilyModel } from "../model/family";
import { PRODUCTION_PATHS } from "./layout";
import type { ServerFile } from "./server-files";
import { base64Lines, fillTemplate, shellWord } from "./template";

/** How the scripts call prosodyctl: plain on the server, with `--config` in the local try-out. */
export const SERVER_PROSODYCTL = "prosodyctl";

const HEREDOC_END = "FAMILY_XMPP_FILE_END";

export function renderWaitForCloudInit(): string {
    return fillTemplate("wait-for-cloud-init.sh", {});
}

/** A secret as a provisioning script reads it: one line on stdin (`IFS= read -r`). */
export function secretOnStdin(password: string): string {
    return `${password}\n`;
}

export function renderSyncFamilyFiles(
    model: FamilyModel,
    files: readonly ServerFile[],
    groupsFile: string = PRODUCTION_PATHS.groupsFile,
    prosodyctl = SERVER_PROSODYCTL,
): string {
    const writes = files.map((file) => {
        const base64 = base64Lines(file.content);
        return (
            `write_file ${shellWord(file.path)} ${shellWord(file.owner)} ${file.permissions} ` +
            `<<'${HEREDOC_END}'\n` +
            `${base64}${HEREDOC_END}`
        );
    });
    return fillTemplate("sync-family-files.sh", {
        WRITE_FILES: writes.join("\n"),
        PROSODYCTL: prosodyctl,
        DOMAIN: model.domain,
        GROUPS_FILE: shellWord(groupsFile),
    });
}
