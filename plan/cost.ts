import { FamilyModel } from "../model/family";
import { HETZNER_PRICES } from "../model/prices";

/** A month at Hetzner, in euros, or why it cannot be told. */
export type MonthlyCost = { readonly euros: number } | { readonly unknown: string };

export function monthlyCost(model: FamilyModel): MonthlyCost {
    const prices = HETZNER_PRICES;
    const server = prices.serverPerMonth[model.hetzner.serverType as keyof typeof prices.serverPerMonth];
    if (server === undefined)
        return { unknown: `model/prices.ts has no price for the server type ${model.hetzner.serverType}` };
    const euros =
        server * (model.hetzner.backups ? 1 + prices.backupsShareOfServer : 1) +
        prices.primaryIpv4PerMonth +
        prices.primaryIpv6PerMonth +
        model.hetzner.volumeSizeGb * prices.volumePerGbMonth;
    return { euros: Math.round(euros * 100) / 100 };
}
