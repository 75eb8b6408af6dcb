import { FamilyModel, jidOf, Member } from "../model/family";
import { familyRooms } from "../render/rooms";
import { monthlyCost, MonthlyCost } from "./cost";
import { plannedRuns, StepRunKind } from "./provisioning-steps";
import { ResourceChange } from "./resource-diff";
import { SimulatedUp } from "./simulate";

/** What a change of the stack config does for the family, in its own terms (rendered by render-plan.ts). */
export interface FamilyPlan {
    readonly domain: string;
    /** Whether the stack exists at the base: without it, everything is new. */
    readonly isNewStack: boolean;
    readonly accounts: readonly AccountChange[];
    readonly groups: readonly GroupChange[];
    readonly dnsRecords: readonly DnsRecordChange[];
    readonly firewall: readonly FirewallChange[];
    readonly settings: readonly SettingChange[];
    readonly infrastructure: readonly InfrastructureFate[];
    readonly steps: readonly StepChange[];
    readonly cost: { readonly before?: MonthlyCost; readonly after: MonthlyCost };
    /** What cannot be undone: an erased account, a replaced volume or address. Empty: a safe change. */
    readonly destroys: readonly string[];
    /** Said on every plan of a family without backups (`backup: false`), changes or not. */
    readonly nothingBackedUp: boolean;
}

export type AccountChange =
    | { readonly kind: "created" | "reenabled" | "disabled" | "erased"; readonly member: MemberRef }
    | { readonly kind: "renamed"; readonly member: MemberRef; readonly from: string }
    | { readonly kind: "admin-granted" | "admin-revoked"; readonly member: MemberRef };

export interface MemberRef {
    readonly username: string;
    readonly name: string;
    readonly jid: string;
}

export type GroupChange =
    | {
          readonly kind: "group-created";
          readonly group: string;
          readonly room: string;
          readonly members: string[];
      }
    | { readonly kind: "group-removed"; readonly group: string; readonly room: string }
    | {
          readonly kind: "joined" | "left";
          readonly group: string;
          readonly room: string;
          readonly member: string;
      }
    | { readonly kind: "room-role"; readonly room: string; readonly member: string; readonly role: string };

export interface DnsRecordChange {
    readonly kind: "added" | "removed" | "changed";
    readonly name: string;
    readonly type: string;
    readonly from?: string;
    readonly to?: string;
}

export interface FirewallChange {
    readonly kind: "opened" | "closed" | "sources-changed";
    /** "5269/tcp", "icmp". */
    readonly port: string;
    readonly description: string;
    readonly from?: string;
    readonly to?: string;
}

export interface SettingChange {
    readonly setting: string;
    readonly from: string;
    readonly to: string;
}

export type InfrastructurePart = "server" | "volume" | "ipv4" | "ipv6";

export interface InfrastructureFate {
    readonly part: InfrastructurePart;
    readonly fate: "created" | "replaced" | "updated" | "unchanged" | "deleted";
    /** The inputs that replace it, with their old and new values. */
    readonly replacedBecause: readonly InputChange[];
    /** Every changed input, with their old and new values. */
    readonly changes: readonly InputChange[];
}

export interface InputChange {
    readonly input: string;
    readonly from: unknown;
    readonly to: unknown;
}

export interface StepChange {
    readonly step: string;
    readonly kind: StepRunKind | "removed";
}

/** The program's names for the parts whose fate the plan always states. */
export const INFRASTRUCTURE_RESOURCES: Readonly<Record<InfrastructurePart, string>> = {
    server: "family-server",
    volume: "family-data",
    ipv4: "family-ipv4",
    ipv6: "family-ipv6",
};

const DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord";
const FIREWALL = "hcloud:index/firewall:Firewall";

/** The family plan from the two models (`base` undefined: no stack yet) and the simulated `pulumi up`. */
export function computeFamilyPlan(
    base: FamilyModel | undefined,
    head: FamilyModel,
    simulated: SimulatedUp,
): FamilyPlan {
    const steps = stepChanges(simulated);
    const accounts = accountChanges(base, head, steps);
    const infrastructure = infrastructureFates(simulated.changes);
    return {
        domain: head.domain,
        isNewStack: base === undefined,
        accounts,
        groups: groupChanges(base, head),
        dnsRecords: dnsRecordChanges(simulated.changes),
        firewall: firewallChanges(simulated.changes),
        settings: settingChanges(base, head),
        nothingBackedUp: head.backup === undefined,
        infrastructure,
        steps,
        cost: { before: base && monthlyCost(base), after: monthlyCost(head) },
        destroys: [
            ...accounts
                .filter((change) => change.kind === "erased")
                .map((change) => `the account ${change.member.jid} is erased with its history`),
            ...infrastructure
                .filter((fate) => fate.part !== "server")
                .filter((fate) => fate.fate === "replaced" || fate.fate === "deleted")
                .map((fate) => `the ${PART_NAMES[fate.part]} is ${fate.fate}`),
        ],
    };
}

export const PART_NAMES: Readonly<Record<InfrastructurePart, string>> = {
    server: "server",
    volume: "volume",
    ipv4: "IPv4 address",
    ipv6: "IPv6 address",
};

/** Whether the plan has anything to say at all. */
export function hasChanges(plan: FamilyPlan): boolean {
    return (
        plan.accounts.length +
            plan.groups.length +
            plan.dnsRecords.length +
            plan.firewall.length +
            plan.settings.length +
            plan.steps.length >
            0 || plan.infrastructure.some((fate) => fate.fate !== "unchanged")
    );
}

function memberRef(model: FamilyModel, member: Member): MemberRef {
    return { username: member.username, name: member.name, jid: jidOf(model, member.username) };
}

function accountChanges(
    base: FamilyModel | undefined,
    head: FamilyModel,
    steps: readonly StepChange[],
): AccountChange[] {
    const before = new Map((base?.members ?? []).map((member) => [member.username, member]));
    const formerlyDisabled = new Set(
        (base?.removedMembers ?? []).filter((r) => !r.erase).map((r) => r.username),
    );
    const erasedNow = new Set(
        steps
            .filter((step) => step.kind === "create" && step.step.startsWith("family-erase-"))
            .map((step) => step.step.slice("family-erase-".length)),
    );
    const changes: AccountChange[] = [];
    for (const member of head.members) {
        const ref = memberRef(head, member);
        const previous = before.get(member.username);
        if (!previous) {
            changes.push({
                kind: formerlyDisabled.has(member.username) ? "reenabled" : "created",
                member: ref,
            });
            continue;
        }
        if (previous.name !== member.name)
            changes.push({ kind: "renamed", member: ref, from: previous.name });
        if (previous.admin !== member.admin)
            changes.push({ kind: member.admin ? "admin-granted" : "admin-revoked", member: ref });
    }
    const stays = new Set(head.members.map((member) => member.username));
    for (const member of base?.members ?? []) {
        if (stays.has(member.username)) continue;
        changes.push({
            kind: erasedNow.has(member.username) ? "erased" : "disabled",
            member: memberRef(head, member),
        });
    }
    // A former member, disabled before, whom the config now erases.
    for (const username of erasedNow) {
        if (before.has(username)) continue;
        changes.push({ kind: "erased", member: { username, name: username, jid: jidOf(head, username) } });
    }
    return changes;
}

function groupChanges(base: FamilyModel | undefined, head: FamilyModel): GroupChange[] {
    const roomOf = (model: FamilyModel | undefined, group: string) =>
        (model ? familyRooms(model) : []).find((room) => room.name === group)?.jid ?? "";
    const nameOf = (username: string) =>
        [...head.members, ...(base?.members ?? [])].find((m) => m.username === username)?.name ?? username;
    const before = new Map((base?.groups ?? []).map((group) => [group.name, group.members]));
    const changes: GroupChange[] = [];
    for (const group of head.groups) {
        const room = roomOf(head, group.name);
        const previous = before.get(group.name);
        before.delete(group.name);
        if (!previous) {
            changes.push({
                kind: "group-created",
                group: group.name,
                room,
                members: group.members.map(nameOf),
            });
            continue;
        }
        for (const username of group.members.filter((u) => !previous.includes(u)))
            changes.push({ kind: "joined", group: group.name, room, member: nameOf(username) });
        for (const username of previous.filter((u) => !group.members.includes(u)))
            changes.push({ kind: "left", group: group.name, room, member: nameOf(username) });
    }
    for (const gone of before.keys())
        changes.push({ kind: "group-removed", group: gone, room: roomOf(base, gone) });
    // A member who stays in a room but becomes (or stops being) an admin changes role in it.
    const oldRooms = new Map((base ? familyRooms(base) : []).map((room) => [room.jid, room]));
    for (const room of familyRooms(head)) {
        const previous = oldRooms.get(room.jid);
        if (!previous) continue;
        for (const [jid, role] of Object.entries(room.affiliations)) {
            const was = previous.affiliations[jid];
            if (was && was !== role)
                changes.push({ kind: "room-role", room: room.jid, member: nameOf(jid.split("@")[0]), role });
        }
    }
    return changes;
}

/** A DNS record's data as a zone file shows it, from the Cloudflare record's inputs. */
export function recordValue(inputs: Record<string, unknown>): string {
    const data = (inputs.data ?? {}) as Record<string, unknown>;
    switch (inputs.type) {
        case "SRV":
            return `${data.priority} ${data.weight} ${data.port} ${data.target}`;
        case "CAA":
            return `${data.flags} ${data.tag} "${data.value}"`;
        case "MX":
            return `${inputs.priority} ${inputs.content}`;
        default:
            return String(inputs.content);
    }
}

function dnsRecordChanges(changes: readonly ResourceChange[]): DnsRecordChange[] {
    return changes
        .filter((change) => change.type === DNS_RECORD)
        .map((change) => {
            const inputs = (change.after ?? change.before)!.inputs;
            const base = { name: String(inputs.name), type: String(inputs.type) };
            if (change.kind === "create") return { ...base, kind: "added", to: recordValue(inputs) };
            if (change.kind === "delete") return { ...base, kind: "removed", from: recordValue(inputs) };
            return {
                ...base,
                kind: "changed",
                from: recordValue(change.before!.inputs),
                to: recordValue(change.after!.inputs),
            };
        });
}

interface DeclaredRule {
    readonly protocol: string;
    readonly port?: string;
    readonly sourceIps: readonly string[];
    readonly description: string;
}

function firewallChanges(changes: readonly ResourceChange[]): FirewallChange[] {
    const change = changes.find((c) => c.type === FIREWALL);
    if (!change) return [];
    const rules = (inputs?: Record<string, unknown>) =>
        new Map(
            ((inputs?.rules ?? []) as DeclaredRule[]).map((rule) => [
                rule.port ? `${rule.port}/${rule.protocol}` : rule.protocol,
                rule,
            ]),
        );
    const before = rules(change.before?.inputs);
    const after = rules(change.after?.inputs);
    const sources = (rule: DeclaredRule) => rule.sourceIps.join(", ");
    const result: FirewallChange[] = [];
    for (const [port, rule] of after) {
        const previous = before.get(port);
        if (!previous)
            result.push({ kind: "opened", port, description: rule.description, to: sources(rule) });
        else if (sources(previous) !== sources(rule))
            result.push({
                kind: "sources-changed",
                port,
                description: rule.description,
                from: sources(previous),
                to: sources(rule),
            });
    }
    for (const [port, rule] of before) {
        if (!after.has(port))
            result.push({ kind: "closed", port, description: rule.description, from: sources(rule) });
    }
    return result;
}

/** Settings other than the members and groups (which have their own lines), by their model path. */
function settingChanges(base: FamilyModel | undefined, head: FamilyModel): SettingChange[] {
    if (!base) return [];
    const changes: SettingChange[] = [];
    const walk = (before: unknown, after: unknown, path: string) => {
        if (JSON.stringify(before) === JSON.stringify(after)) return;
        if (isObject(before) && isObject(after)) {
            for (const key of new Set([...Object.keys(before), ...Object.keys(after)]))
                walk(before[key], after[key], path ? `${path}.${key}` : key);
        } else if (isObject(before) || isObject(after)) {
            // An optional part switched on or off as a whole (calls, mail).
            changes.push({ setting: path, from: before ? "on" : "off", to: after ? "on" : "off" });
        } else changes.push({ setting: path, from: settingValue(before), to: settingValue(after) });
    };
    const settings = (model: FamilyModel) => {
        const { members, removedMembers, groups, ...rest } = model;
        void [members, removedMembers, groups];
        return rest;
    };
    walk(settings(base), settings(head), "");
    return changes;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function settingValue(value: unknown): string {
    if (value === undefined) return "(none)";
    if (Array.isArray(value)) return value.length === 0 ? "(none)" : value.map(settingValue).join(", ");
    if (isObject(value)) return Object.values(value).map(settingValue).join(" ");
    const text = String(value);
    // SSH keys and the like: their start tells them apart, the rest only takes room.
    return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function infrastructureFates(changes: readonly ResourceChange[]): InfrastructureFate[] {
    return (Object.keys(INFRASTRUCTURE_RESOURCES) as InfrastructurePart[]).map((part) => {
        const change = changes.find((c) => c.name === INFRASTRUCTURE_RESOURCES[part]);
        const inputChange = (input: string): InputChange => ({
            input,
            from: change?.before?.inputs[input],
            to: change?.after?.inputs[input],
        });
        const fate = !change
            ? "unchanged"
            : ({ create: "created", delete: "deleted", replace: "replaced", update: "updated" } as const)[
                  change.kind
              ];
        return {
            part,
            fate,
            replacedBecause: (change?.replacedBecause ?? []).map(inputChange),
            changes: (change?.changedInputs ?? []).map(inputChange),
        };
    });
}

function stepChanges(simulated: SimulatedUp): StepChange[] {
    const runs = plannedRuns(simulated.before, simulated.after).map((run) => ({
        step: run.step.name,
        kind: run.why,
    }));
    // A step without a delete script that goes away runs nothing, but the family should know it is gone.
    const removed = simulated.changes
        .filter((change) => change.type === "command:remote:Command" && change.kind === "delete")
        .filter((change) => change.before?.inputs.delete === undefined)
        .map((change) => ({ step: change.name, kind: "removed" as const }));
    return [...runs, ...removed];
}
