import { conferenceHost, FamilyModel, jidOf } from "../model/family";
import { SERVER_PROSODYCTL } from "./provisioning";
import { fillTemplate, luaString, shellWord } from "./template";

/** One persistent, members-only group chat per family group, on the conference host. */
export interface FamilyRoom {
    readonly jid: string;
    readonly name: string;
    /** `{ jid: "owner" | "member" }`: the group's admins own the room, everyone else is a member. */
    readonly affiliations: Readonly<Record<string, "owner" | "member">>;
}

/** "Släkten & vänner" → "slakten-vanner": the room's address, readable in any app. */
function roomLocalpart(groupName: string): string {
    const slug = groupName
        .normalize("NFKD")
        .replace(/\p{M}/gu, "")
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "");
    return slug || "group";
}

export function familyRooms(model: FamilyModel): FamilyRoom[] {
    const admins = new Set(model.members.filter((member) => member.admin).map((member) => member.username));
    const taken = new Set<string>();
    return model.groups.map((group) => {
        let localpart = roomLocalpart(group.name);
        for (let n = 2; taken.has(localpart); n++) localpart = `${roomLocalpart(group.name)}-${n}`;
        taken.add(localpart);
        const affiliations = Object.fromEntries(
            group.members.map((username) => [
                jidOf(model, username),
                admins.has(username) ? ("owner" as const) : ("member" as const),
            ]),
        );
        return { jid: `${localpart}@${conferenceHost(model)}`, name: group.name, affiliations };
    });
}

/**
 * Lua for Prosody's admin shell (one line, after ">"): each family room exists, is persistent,
 * members-only and non-anonymous (what OMEMO in group chats needs), and its member list is
 * exactly the group's. Someone who left the group loses access; the room and its history stay.
 */
export function renderRoomsLua(model: FamilyModel): string {
    const table = (affiliations: Readonly<Record<string, string>>) =>
        `{ ${Object.entries(affiliations)
            .map(([jid, affiliation]) => `[${luaString(jid)}] = ${luaString(affiliation)}`)
            .join(", ")} }`;
    return [
        `> local muc = prosody.hosts[${luaString(conferenceHost(model))}].modules.muc;`,
        "local function sync(jid, name, wanted)",
        "local room = muc.get_room_from_jid(jid) or assert(muc.create_room(jid));",
        "room:set_name(name); room:set_persistent(true); room:set_members_only(true); " +
            'room:set_public(false); room:set_whois("anyone");',
        "for who, affiliation in room:each_affiliation() do",
        'if wanted[who] == nil and affiliation ~= "outcast" ' +
            'then room:set_affiliation(true, who, "none") end end;',
        "for who, affiliation in pairs(wanted) do " +
            "if room:get_affiliation(who) ~= affiliation " +
            "then room:set_affiliation(true, who, affiliation) end end;",
        "room:save(true) end;",
        ...familyRooms(model).map(
            (room) => `sync(${luaString(room.jid)}, ${luaString(room.name)}, ${table(room.affiliations)});`,
        ),
        'return "family rooms in place"',
    ].join(" ");
}

export function renderSyncRooms(model: FamilyModel, prosodyctl = SERVER_PROSODYCTL): string {
    return fillTemplate("sync-family-rooms.sh", {
        PROSODYCTL: prosodyctl,
        ROOMS_LUA: shellWord(renderRoomsLua(model)),
    });
}
