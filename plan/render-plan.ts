import { HETZNER_PRICES } from "../model/prices";
import { MonthlyCost } from "./cost";
import {
    AccountChange,
    FamilyPlan,
    GroupChange,
    hasChanges,
    InfrastructureFate,
    InputChange,
    PART_NAMES,
    StepChange,
} from "./family-plan";

export type PlanFormat = "markdown" | "text";

const NOTHING_BACKED_UP =
    "Nothing is backed up: family-xmpp:backup is false. A lost volume loses the family's accounts, " +
    'history and files (README, "Backups and restoring").';

interface Section {
    readonly title: string;
    readonly lines: readonly string[];
}

/** The plan for a pull-request comment. */
export function renderPlanMarkdown(plan: FamilyPlan): string {
    const out = [`## Family plan for ${plan.domain}`, ""];
    if (plan.nothingBackedUp) out.push(`**${NOTHING_BACKED_UP}**`, "");
    if (!hasChanges(plan)) return [...out, "No changes.", ""].join("\n");
    if (plan.destroys.length > 0) {
        out.push("**⚠️ This change destroys something that cannot be undone:**", "");
        out.push(...plan.destroys.map((line) => `- ${line}`), "");
    }
    for (const section of sectionsOf(plan)) {
        out.push(`### ${section.title}`, "", ...section.lines.map((line) => `- ${line}`), "");
    }
    return out.join("\n");
}

/** The plan for a terminal. */
export function renderPlanText(plan: FamilyPlan): string {
    const out = [`Family plan for ${plan.domain}`, ""];
    if (plan.nothingBackedUp) out.push(NOTHING_BACKED_UP, "");
    if (!hasChanges(plan)) return [...out, "No changes.", ""].join("\n");
    if (plan.destroys.length > 0) {
        out.push("WARNING: this change destroys something that cannot be undone:");
        out.push(...plan.destroys.map((line) => `  ! ${line}`), "");
    }
    for (const section of sectionsOf(plan)) {
        out.push(section.title, ...section.lines.map((line) => `  - ${line}`), "");
    }
    return out.join("\n");
}

export function renderPlan(plan: FamilyPlan, format: PlanFormat): string {
    return format === "markdown" ? renderPlanMarkdown(plan) : renderPlanText(plan);
}

function sectionsOf(plan: FamilyPlan): Section[] {
    const sections: Section[] = [
        { title: "Members", lines: plan.accounts.map(accountLine) },
        { title: "Groups and rooms", lines: plan.groups.map(groupLine) },
        {
            title: "DNS records",
            lines: plan.dnsRecords.map((record) => {
                const what = `${record.name} ${record.type}`;
                if (record.kind === "added") return `Added: ${what} ${record.to}`;
                if (record.kind === "removed") return `Removed: ${what} ${record.from}`;
                return `Changed: ${what} ${record.from} → ${record.to}`;
            }),
        },
        {
            title: "Firewall",
            lines: plan.firewall.map((rule) => {
                if (rule.kind === "opened") return `Opens ${rule.port} (${rule.description}) to ${rule.to}.`;
                if (rule.kind === "closed") return `Closes ${rule.port} (${rule.description}).`;
                return `${rule.port} (${rule.description}) is open to ${rule.to} (was ${rule.from}).`;
            }),
        },
        {
            title: "Settings",
            lines: plan.settings.map((change) => `${change.setting}: ${change.from} → ${change.to}`),
        },
        { title: "Server, volume and addresses", lines: plan.infrastructure.map(infrastructureLine) },
        { title: "Provisioning steps", lines: plan.steps.map(stepLine) },
        { title: "Monthly cost", lines: [costLine(plan.cost.before, plan.cost.after)] },
    ];
    return sections.filter((section) => section.lines.length > 0);
}

function accountLine(change: AccountChange): string {
    const who = `${change.member.name} (${change.member.jid})`;
    switch (change.kind) {
        case "created":
            return `${who} gets an account.`;
        case "reenabled":
            return `${who} gets the account back, with its history.`;
        case "disabled":
            return `${who} loses the account: it is disabled (no login), its history is kept.`;
        case "erased":
            return `${who}: the account is erased with its history; the username stays reserved.`;
        case "renamed":
            return `${change.from} (${change.member.jid}) is now called “${change.member.name}”.`;
        case "admin-granted":
            return `${who} becomes an admin.`;
        case "admin-revoked":
            return `${who} is no longer an admin.`;
    }
}

function groupLine(change: GroupChange): string {
    switch (change.kind) {
        case "group-created":
            return `New group ${change.group} with its room ${change.room}: ${change.members.join(", ")}.`;
        case "group-removed":
            return (
                `The group ${change.group} is removed: its members no longer see each other through it; ` +
                `its room ${change.room} stays as it is, with its history.`
            );
        case "joined":
            return `${change.member} joins ${change.group} and its room ${change.room}.`;
        case "left":
            return `${change.member} leaves ${change.group} and its room ${change.room}.`;
        case "room-role":
            return (
                `${change.member} becomes ${change.role === "owner" ? "an owner" : "a member"} of ` +
                `${change.room}.`
            );
    }
}

function shown(value: unknown): string {
    if (value === undefined) return "(none)";
    return typeof value === "string" || typeof value === "number" ? String(value) : JSON.stringify(value);
}

const inputWords: Readonly<Record<string, string>> = {
    location: "location",
    image: "image",
    serverType: "server type",
    type: "address type",
    sshKeys: "SSH keys",
    size: "size",
};

function because(changes: readonly InputChange[]): string {
    return changes
        .map(
            (change) =>
                `its ${inputWords[change.input] ?? change.input} changes ` +
                `(${shown(change.from)} → ${shown(change.to)})`,
        )
        .join(" and ");
}

function inPlace(changes: readonly InputChange[], skip: readonly string[]): string {
    const rest = changes.filter((change) => !skip.includes(change.input)).map((change) => change.input);
    return rest.length > 0 ? ` It changes in place: ${rest.join(", ")}.` : "";
}

function infrastructureLine(fate: InfrastructureFate): string {
    const name = PART_NAMES[fate.part];
    const The = `The ${name}`;
    if (fate.fate === "unchanged") return `${The} is not replaced.`;
    if (fate.fate === "created") return `${The} is created.`;
    if (fate.fate === "deleted") return `${The} is DELETED.`;
    if (fate.fate === "replaced") {
        const replaced = fate.part === "server" ? "replaced" : "REPLACED";
        const why = `${The} is ${replaced} because ${because(fate.replacedBecause)}`;
        if (fate.part === "server")
            return (
                `${why}: Pulumi deletes it and builds a new one, which gets the volume, the addresses and ` +
                "the provisioning steps again; accounts and history stay on the volume. " +
                "The family is offline for the few minutes of the rebuild. " +
                "Turn off the server's delete protection in Hetzner's console first."
            );
        if (fate.part === "volume")
            return (
                `${why}: a new, empty volume. The family's accounts, contacts and history stay on the old ` +
                "one and are lost to the server unless moved by hand. Pulumi refuses while the volume is " +
                "protected."
            );
        return (
            `${why}: the server gets a new address, and the DNS records and reverse DNS follow; resolvers ` +
            "keep the old one for up to an hour. Pulumi refuses while the address is protected."
        );
    }
    const notReplaced = `${The} is not replaced.`;
    if (fate.part === "server") {
        const type = fate.changes.find((change) => change.input === "serverType");
        const backups = fate.changes.find((change) => change.input === "backups");
        return [
            notReplaced,
            type
                ? ` Its type changes in place, ${shown(type.from)} → ${shown(type.to)}: ` +
                  "Hetzner powers it off, resizes it and starts it again (a few minutes offline); " +
                  "its disk grows with the type, which rules out going back to a type with a smaller disk."
                : "",
            backups ? ` Hetzner's backups are switched ${backups.to ? "on" : "off"}.` : "",
            inPlace(fate.changes, ["serverType", "backups"]),
        ].join("");
    }
    if (fate.part === "volume") {
        const size = fate.changes.find((change) => change.input === "size");
        const resize =
            size === undefined
                ? ""
                : Number(size.to) > Number(size.from)
                  ? ` It grows in place, ${shown(size.from)} → ${shown(size.to)} GB.`
                  : ` It cannot shrink (${shown(size.from)} → ${shown(size.to)} GB): Hetzner refuses, ` +
                    "and `pulumi up` fails.";
        return notReplaced + resize + inPlace(fate.changes, ["size"]);
    }
    return notReplaced + inPlace(fate.changes, []);
}

function stepTitle(step: string): string {
    const titles: Record<string, string> = {
        "family-first-boot": "wait for the server's first boot",
        "family-files": "write the family's files",
        "family-dns-credentials": "store certbot's Cloudflare token",
        "family-certificate": "obtain the certificate",
        "family-calls": "give coturn and Prosody the calls secret",
    };
    if (titles[step]) return titles[step];
    if (step.startsWith("family-account-")) return `the account of ${step.slice("family-account-".length)}`;
    if (step.startsWith("family-erase-")) return `erase the account of ${step.slice("family-erase-".length)}`;
    if (step.startsWith("family-welcome-"))
        return `the welcome link of ${step.slice("family-welcome-".length)}`;
    return step;
}

function stepLine(change: StepChange): string {
    const how: Record<StepChange["kind"], string> = {
        create: "runs (a new step)",
        update: "runs again (its inputs changed)",
        replace: "runs again (replaced: the server is new)",
        "replace (delete old)": "the replaced step's delete script runs",
        delete: "removed: its delete script runs",
        removed: "removed (runs nothing)",
    };
    return `${change.step} (${stepTitle(change.step)}): ${how[change.kind]}.`;
}

function perMonth(cost: MonthlyCost): string {
    return "euros" in cost ? `€${cost.euros.toFixed(2)} a month` : `not known (${cost.unknown})`;
}

function costLine(before: MonthlyCost | undefined, after: MonthlyCost): string {
    const costs = before ? `${perMonth(before)} → ${perMonth(after)}` : perMonth(after);
    return (
        `${costs}, at Hetzner's prices as taken ${HETZNER_PRICES.takenOn} ` +
        "(model/prices.ts; check them against Hetzner's price list)."
    );
}
