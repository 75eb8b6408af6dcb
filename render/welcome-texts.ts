import { Language } from "../model/known-values";

/**
 * What a member reads while joining, in each language a family can choose: the printed welcome
 * sheet and the web page where they choose their password.
 */
export interface WelcomeTexts {
    readonly sheet: SheetTexts;
    /**
     * The password page: HTML fragments in which Prosody fills in `{name}`, `{jid}` and
     * `{min_length}` (config-templates/family_welcome.html).
     */
    readonly page: {
        readonly title: string;
        readonly greeting: string;
        readonly password: string;
        readonly again: string;
        readonly save: string;
        readonly mismatch: string;
        readonly tooShort: string;
        readonly done: string;
        readonly invalid: string;
    };
}

export interface SheetTexts {
    readonly title: (name: string) => string;
    readonly address: string;
    readonly install: string;
    readonly scan: string;
    /** `admins` are the names of whom to ask, already joined with "or". */
    readonly expiry: (days: number, admins: string) => string;
    readonly typeLink: string;
    /** Whom to ask for a new link when the family has no admin. */
    readonly nobody: string;
    readonly or: string;
}

export const WELCOME_TEXTS: Readonly<Record<Language, WelcomeTexts>> = {
    en: {
        sheet: {
            title: (name) => `Welcome, ${name}!`,
            address: "Your address in the family's chat:",
            install:
                "Install a chat app: Conversations on Android, Monal or Siskin on an iPhone or iPad, " +
                "Gajim or Dino on a computer.",
            scan:
                "Scan the code with your phone's camera and open the link: it shows which app to take " +
                "and lets you choose your own password. The family is already in your contacts.",
            expiry: (days, admins) =>
                `The code works once, for ${days} ${days === 1 ? "day" : "days"}. ` +
                `If it is too late, ask ${admins} for a new one.`,
            typeLink: "On a computer, type in this link:",
            nobody: "whoever gave you this sheet",
            or: "or",
        },
        page: {
            title: "Choose your password",
            greeting:
                "Hello {name}! Your address is <strong>{jid}</strong>. " +
                "Choose the password you will log in with.",
            password: "Password",
            again: "The same password again",
            save: "Save the password",
            mismatch: "The two passwords are not the same.",
            tooShort: "A password needs at least {min_length} characters.",
            done:
                "Your password is saved. Now add the account in your app, with the address " +
                "<strong>{jid}</strong> and the password you just chose.",
            invalid: "This link has been used, or it has expired. Ask whoever gave it to you for a new one.",
        },
    },
    nb: {
        sheet: {
            title: (name) => `Velkommen, ${name}!`,
            address: "Adressen din i familiens chat:",
            install:
                "Installer en chatte-app: Conversations på Android, Monal eller Siskin på iPhone eller " +
                "iPad, Gajim eller Dino på en datamaskin.",
            scan:
                "Skann koden med kameraet på telefonen og åpne lenken: den viser hvilken app du skal ta, " +
                "og lar deg velge ditt eget passord. Familien er allerede i kontaktlisten din.",
            expiry: (days, admins) =>
                `Koden virker én gang, i ${days} ${days === 1 ? "dag" : "dager"}. ` +
                `Er det for sent, be ${admins} om en ny.`,
            typeLink: "På en datamaskin, skriv inn denne lenken:",
            nobody: "den som ga deg dette arket",
            or: "eller",
        },
        page: {
            title: "Velg passordet ditt",
            greeting:
                "Hei {name}! Adressen din er <strong>{jid}</strong>. " +
                "Velg passordet du vil logge inn med.",
            password: "Passord",
            again: "Det samme passordet en gang til",
            save: "Lagre passordet",
            mismatch: "De to passordene er ikke like.",
            tooShort: "Et passord må ha minst {min_length} tegn.",
            done:
                "Passordet er lagret. Legg nå til kontoen i appen din, med adressen " +
                "<strong>{jid}</strong> og passordet du nettopp valgte.",
            invalid:
                "Denne lenken er allerede brukt, eller den er utløpt. " + "Be den som ga deg den om en ny.",
        },
    },
};
