import { HETZNER_SERVER_TYPES } from "./known-values";

/**
 * What the family pays Hetzner each month, in euros, as the plan's cost line computes it.
 *
 * Taken in November 2026 from the figures README's "Costs" section gives for late 2026. They are
 * approximate and change (Hetzner changed its prices twice in 2026): check them against Hetzner's
 * price list (hetzner.com/cloud) before relying on them, and update `takenOn` with them.
 *
 * Only the server types whose price was taken are listed: for any other type the plan says the
 * cost is not known rather than guess it.
 */
export const HETZNER_PRICES = {
    takenOn: "2026-11",
    currency: "EUR",
    serverPerMonth: { cx23: 4.0 } as Partial<Record<(typeof HETZNER_SERVER_TYPES)[number], number>>,
    primaryIpv4PerMonth: 0.5,
    primaryIpv6PerMonth: 0,
    volumePerGbMonth: 0.05,
    /** Hetzner's backups cost a share of the server's price. */
    backupsShareOfServer: 0.2,
} as const;

/** The server types the model accepts whose price the table does not know. */
export function serverTypesWithoutPrice(): string[] {
    return HETZNER_SERVER_TYPES.filter((type) => HETZNER_PRICES.serverPerMonth[type] === undefined);
}
