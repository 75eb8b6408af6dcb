import { FamilyModel, jidOf } from "../model/family";
import { PRODUCTION_HOST, ServerHost } from "./layout";
import { fillTemplate, luaString, renderScript, shellWord } from "./template";
import { WELCOME_TEXTS } from "./welcome-texts";

/**
 * Welcome links: each member's personal link (a password-reset invitation of Prosody's
 * mod_invites for their own account, see config-templates/mod_family_welcome.lua) opens a page on
 * the server's own name, which the family's certificate covers; the domain itself is left to the
 * family's website.
 */

/** Where the welcome pages live: `https://xmpp.johansson.me/`, with the port if it is not 443. */
export function welcomeBaseUrl(model: FamilyModel, host: ServerHost = PRODUCTION_HOST): string {
    const port = host.listeners.httpsPort;
    return `https://${model.hostname}${port === 443 ? "" : `:${port}`}/`;
}

/** The page where a member chooses a password on the web, in the family's language. */
export function renderWelcomePage(model: FamilyModel): string {
    const { page } = WELCOME_TEXTS[model.welcome.language];
    return fillTemplate("family_welcome.html", {
        LANG: model.welcome.language,
        TITLE: page.title,
        GREETING: page.greeting,
        MISMATCH: page.mismatch,
        TOO_SHORT: page.tooShort,
        PASSWORD: page.password,
        AGAIN: page.again,
        SAVE: page.save,
        DONE: page.done,
        INVALID: page.invalid,
    });
}

/** Lua for Prosody's admin shell: `welcome-link=<link>` for the member, or why there is none. */
export function welcomeLinkLua(model: FamilyModel, username: string): string {
    return [
        `> local welcome = prosody.hosts[${luaString(model.domain)}].modules.family_welcome;`,
        `local link, err = welcome.welcome_link(${luaString(username)});`,
        `return link and ("welcome-link=" .. link) or ("no welcome link: " .. tostring(err))`,
    ].join(" ");
}

/** The step that gives a member a fresh welcome link and prints it (see welcome-link.sh). */
export function renderWelcomeLink(
    model: FamilyModel,
    username: string,
    host: ServerHost = PRODUCTION_HOST,
): string {
    return renderScript(
        "welcome-link.sh",
        {
            JID: shellWord(jidOf(model, username)),
            WELCOME_LINK_LUA: shellWord(welcomeLinkLua(model, username)),
        },
        host,
    );
}
