import { renderSVG } from "uqr";
import { FamilyModel, jidOf } from "../model/family";
import { WELCOME_TEXTS } from "./welcome-texts";

/**
 * The printable welcome sheets: one A4 page per member with their name, address, their welcome
 * link as a QR code and as text, and what to do, in the family's language. `links` is
 * `{ jid: link }`, as `pulumi stack output welcomeLinks` and the try-out's welcome-links.json hold it.
 */
export function renderWelcomeSheets(model: FamilyModel, links: Readonly<Record<string, string>>): string {
    const missing = model.members.map((m) => jidOf(model, m.username)).filter((jid) => !links[jid]);
    if (missing.length > 0) throw new Error(`no welcome link for ${missing.join(", ")}`);
    const { sheet } = WELCOME_TEXTS[model.welcome.language];
    const admins = model.members.filter((member) => member.admin).map((member) => member.name);
    const whom =
        admins.length === 0
            ? sheet.nobody
            : admins.length === 1
              ? admins[0]
              : `${admins.slice(0, -1).join(", ")} ${sheet.or} ${admins[admins.length - 1]}`;
    const pages = model.members.map((member) => {
        const jid = jidOf(model, member.username);
        const link = links[jid];
        return [
            '<section class="sheet">',
            `<h1>${escapeHtml(sheet.title(member.name))}</h1>`,
            `<p>${escapeHtml(sheet.address)}</p>`,
            `<p class="address">${escapeHtml(jid)}</p>`,
            `<div class="code">${renderSVG(link, { ecc: "M", border: 2 })}</div>`,
            "<ol>",
            `<li>${escapeHtml(sheet.install)}</li>`,
            `<li>${escapeHtml(sheet.scan)}</li>`,
            `<li>${escapeHtml(sheet.expiry(model.welcome.linkDays, whom))}</li>`,
            "</ol>",
            `<p class="link">${escapeHtml(sheet.typeLink)}<br><code>${escapeHtml(link)}</code></p>`,
            "</section>",
        ].join("\n");
    });
    return [
        "<!DOCTYPE html>",
        `<html lang="${model.welcome.language}">`,
        "<head>",
        '<meta charset="utf-8">',
        `<title>${escapeHtml(model.domain)}</title>`,
        "<style>",
        "@page { size: A4; margin: 18mm; }",
        "body { font-family: sans-serif; font-size: 13pt; line-height: 1.45; margin: 0; }",
        ".sheet { break-after: page; }",
        "h1 { font-size: 24pt; margin: 0 0 6mm; }",
        ".address { font-size: 20pt; font-weight: bold; margin-top: 0; }",
        ".code svg { display: block; width: 75mm; height: 75mm; margin: 6mm auto; }",
        "li { margin-bottom: 3mm; }",
        ".link code { font-size: 10pt; word-break: break-all; }",
        "</style>",
        "</head>",
        "<body>",
        ...pages,
        "</body>",
        "</html>",
        "",
    ].join("\n");
}

function escapeHtml(text: string): string {
    return text.replace(
        /[&<>"']/g,
        (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char] ?? char,
    );
}
