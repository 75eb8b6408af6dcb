import { FamilyModel, jidOf } from "../model/family";
import { PRODUCTION_HOST, ServerHost } from "./layout";
import { luaString, renderScript, shellWord } from "./template";

/**
 * The account steps. Accounts live on the data volume and follow the config: a member gets an
 * account; a member who leaves keeps it disabled, with its history; only an explicit
 * `removedMembers` entry with `erase: true` deletes it. Every script talks to the running Prosody
 * through its admin shell, so that sessions close and events fire at once.
 */

/** Lua for Prosody's admin shell: `account=absent|enabled|disabled|erased`. */
export function accountStateLua(model: FamilyModel, username: string): string {
    return [
        `> local um = require "prosody.core.usermanager";`,
        `local u, h = ${luaString(username)}, ${luaString(model.domain)};`,
        `if um.user_exists(u, h) then`,
        `return "account=" .. (um.user_is_enabled(u, h) and "enabled" or "disabled") end;`,
        // mod_tombstones' own lookup caches "no tombstone" and misses one made later: read its store.
        `local graveyard = require "prosody.core.storagemanager".open(h, "tombstones", "map");`,
        `if graveyard:get(nil, u) then return "account=erased" end;`,
        `return "account=absent"`,
    ].join(" ");
}

const userCommand = (command: string, model: FamilyModel, username: string) =>
    shellWord(`user:${command}(${luaString(jidOf(model, username))})`);

export function renderEnsureAccount(
    model: FamilyModel,
    username: string,
    host: ServerHost = PRODUCTION_HOST,
): string {
    return renderScript(
        "ensure-account.sh",
        {
            JID: shellWord(jidOf(model, username)),
            ACCOUNT_STATE_LUA: shellWord(accountStateLua(model, username)),
            ENABLE_LUA: userCommand("enable", model, username),
        },
        host,
    );
}

/** The account step's delete: no login, apps disconnected, contacts and history kept. */
export function renderDisableAccount(
    model: FamilyModel,
    username: string,
    host: ServerHost = PRODUCTION_HOST,
): string {
    return renderEndAccount(model, username, host, "disable", "User disabled", "disabled, history kept:");
}

/** A former member with erase: true: the account with its contacts and history deleted. */
export function renderEraseAccount(
    model: FamilyModel,
    username: string,
    host: ServerHost = PRODUCTION_HOST,
): string {
    return renderEndAccount(model, username, host, "delete", "User deleted", "erased with its history:");
}

function renderEndAccount(
    model: FamilyModel,
    username: string,
    host: ServerHost,
    command: "disable" | "delete",
    doneReply: string,
    doneMessage: string,
): string {
    return renderScript(
        "end-account.sh",
        {
            JID: shellWord(jidOf(model, username)),
            USER_COMMAND_LUA: userCommand(command, model, username),
            DONE_REPLY: shellWord(doneReply),
            DONE_MESSAGE: doneMessage,
        },
        host,
    );
}
