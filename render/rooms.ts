import { conferenceHost, FamilyModel, jidOf } from "../model/family";

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
 * What the project's Prosody modules (config-templates/mod_family_xmpp.lua, mod_family_welcome.lua)
 * keep the server in step with: the rooms with their member lists, each member's name and rooms for
 * their bookmarks, and how long a welcome link stays valid.
 * JSON, so that nothing from the config is ever read as code on the server.
 */
export function renderFamilyFile(model: FamilyModel): string {
    const rooms = familyRooms(model);
    const members = Object.fromEntries(
        model.members.map((member) => {
            const jid = jidOf(model, member.username);
            const memberRooms = rooms.filter((room) => jid in room.affiliations).map((room) => room.jid);
            return [member.username, { name: member.name, rooms: memberRooms }];
        }),
    );
    // How long a welcome link stays valid (config-templates/mod_family_welcome.lua).
    const welcome = { link_seconds: model.welcome.linkDays * 86400 };
    return `${JSON.stringify({ conference: conferenceHost(model), rooms, members, welcome }, null, 2)}\n`;
}
