import { FamilyModel } from "../model/family";
import { PRODUCTION_HOST, ServerFile, ServerHost } from "./layout";
import { base64Lines, luaString, renderScript, shellWord } from "./template";

const HEREDOC_END = "FAMILY_XMPP_FILE_END";

export function renderWaitForCloudInit(): string {
    return renderScript("wait-for-cloud-init.sh", {}, PRODUCTION_HOST);
}

/** A secret as a provisioning script reads it: one line on stdin (`IFS= read -r`). */
export function secretOnStdin(password: string): string {
    return `${password}\n`;
}

/**
 * Lua for Prosody's admin shell after its config was reloaded: modules a new config enables are
 * loaded, mod_groups and the family module read their files again, and the family module brings
 * rooms, bookmarks and connected rosters in step (it answers "family in step: …").
 */
export function applyFamilyLua(model: FamilyModel, host: ServerHost): string {
    return [
        // A Prosody started from an older config may lack the project's plugin directory, which
        // Prosody reads only at start: then it needs a restart.
        `> if not prosody.paths.plugins:find(${luaString(host.paths.prosodyModulesDir)}, 1, true) then`,
        `return "family needs a restart" end;`,
        // So does federation switched on or off: Prosody opens its ports only at start, and a
        // reload loads the modules a config adds but never unloads one it drops.
        `local mm = require "prosody.core.modulemanager"; local h = ${luaString(model.domain)};`,
        `local off = false; local cm = require "prosody.core.configmanager";`,
        `for _, m in ipairs(cm.get("*", "modules_enabled")) do off = off or m == "family_federation" end;`,
        `if off ~= (mm.is_loaded("*", "family_federation") == true) then`,
        `return "family needs a restart" end;`,
        "for host in pairs(prosody.hosts) do mm.load_modules_for_host(host) end;",
        `assert(mm.reload(h, "groups")); assert(mm.reload(h, "family_xmpp"));`,
        "return prosody.hosts[h].modules.family_xmpp.sync()",
    ].join(" ");
}

export function renderSyncFamilyFiles(
    model: FamilyModel,
    files: readonly ServerFile[],
    host: ServerHost = PRODUCTION_HOST,
): string {
    const writes = files.map((file) => {
        const base64 = base64Lines(file.content);
        return (
            `write_file ${shellWord(file.path)} ${shellWord(file.owner)} ${file.permissions} ` +
            `<<'${HEREDOC_END}'\n` +
            `${base64}${HEREDOC_END}`
        );
    });
    return renderScript(
        "sync-family-files.sh",
        {
            WRITE_FILES: writes.join("\n"),
            APPLY_LUA: shellWord(applyFamilyLua(model, host)),
            RESTART_PROSODY: host.commands.restartProsody,
        },
        host,
    );
}
