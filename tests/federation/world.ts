import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FamilyModel } from "../../model/family";
import { rawConfigFromStackFile } from "../../model/stack-config";
import { renderDnsRecords, renderZoneFile, ServerAddresses } from "../../render/dns";
import { LabPlacement, LocalServer, startLocalServer } from "../../scripts/local-server";
import { familyModel } from "../support/families";
import { xml } from "@xmpp/client";
import { loginAt, Session } from "../support/xmpp";
import { FederationLab } from "./lab";
import { LabZone, startLabDns } from "./lab-dns";
import {
    OtherServer,
    ProsodyServer,
    startEjabberd,
    startOddProsody,
    startPackagedProsody,
} from "./other-servers";

/** Every server of the lab, running. */
export interface World {
    readonly lab: FederationLab;
    /** Two families with federation on, rendered from two different stack configs. */
    readonly johansson: LocalServer;
    readonly dow: LocalServer;
    /** A family with federation off. */
    readonly larsson: LocalServer;
    /** Debian's Prosody with its packaged config. */
    readonly jabber: ProsodyServer;
    /** Debian 12's ejabberd 23.01 with its packaged config. */
    readonly ejabberd: OtherServer;
    /** The push service's stand-in, and the servers with certificates to be refused. */
    readonly elsewhere: ProsodyServer;
    /** The addresses each family's zone was rendered with. */
    readonly zoneAddresses: Readonly<Record<FamilyName, ServerAddresses<string>>>;
}

export type FamilyName = "johansson" | "dow" | "larsson";

export const PUSH_SERVICE_USER = "appserver";

/** A family's model from its stack config file in tests/federation/stacks. */
export function stackFamily(name: string): FamilyModel {
    const text = readFileSync(join(__dirname, "stacks", `${name}.yaml`), "utf8");
    return familyModel(rawConfigFromStackFile(text));
}

/**
 * Builds the lab and starts every server in it. The families' zones are exactly what
 * `npm run render` exports, with the lab's addresses (IPv4 only: the AAAA records hold
 * documentation addresses, which nothing routes, as when a server's IPv6 is down).
 */
export async function buildWorld(lab: FederationLab): Promise<World> {
    lab.up();
    const families = {
        johansson: stackFamily("johansson"),
        dow: stackFamily("dow"),
        larsson: stackFamily("larsson"),
    };
    const places = {
        johansson: lab.addNamespace("johansson"),
        dow: lab.addNamespace("dow"),
        larsson: lab.addNamespace("larsson"),
        jabber: lab.addNamespace("jabber"),
        ejabberd: lab.addNamespace("ejabberd"),
        elsewhere: lab.addNamespace("elsewhere"),
    };
    const zoneAddresses = {
        johansson: { ipv4: places.johansson.address, ipv6: "2001:db8::1" },
        dow: { ipv4: places.dow.address, ipv6: "2001:db8::2" },
        larsson: { ipv4: places.larsson.address, ipv6: "2001:db8::3" },
    };
    const familyZone = (name: FamilyName): LabZone => ({
        name: families[name].dnsZone,
        records: renderZoneFile(renderDnsRecords(families[name], zoneAddresses[name])),
    });
    await startLabDns(lab, [
        familyZone("johansson"),
        familyZone("dow"),
        familyZone("larsson"),
        { name: "test", records: otherServersZone(places) },
    ]);
    const family = (name: FamilyName) => {
        const stateDir = join(lab.dir, name);
        mkdirSync(stateDir);
        return startLocalServer({ model: families[name], stateDir, portOffset: 0, lab: places[name] });
    };
    const [johansson, dow, larsson, jabber, ejabberd, elsewhere] = await Promise.all([
        family("johansson"),
        family("dow"),
        family("larsson"),
        startPackagedProsody(lab, places.jabber, "jabber.test", ["maria"]),
        startEjabberd(
            lab,
            places.ejabberd,
            { packaged: "ejabberd.test", withoutDialback: "nodialback.test" },
            ["erik@ejabberd.test", "eva@ejabberd.test", "nils@nodialback.test"],
        ),
        startOddProsody(lab, places.elsewhere, PUSH_SERVICE_USER),
    ]);
    return { lab, johansson, dow, larsson, jabber, ejabberd, elsewhere, zoneAddresses };
}

/** The records of the servers this project did not configure, as their admins would publish them. */
function otherServersZone(
    places: Readonly<Record<"jabber" | "ejabberd" | "elsewhere", LabPlacement>>,
): string {
    const server = (domain: string, target: string) => [
        `_xmpp-server._tcp.${domain}. IN SRV 5 0 5269 ${target}.`,
        `_xmpp-client._tcp.${domain}. IN SRV 5 0 5222 ${target}.`,
    ];
    return [
        `xmpp.jabber.test. IN A ${places.jabber.address}`,
        ...server("jabber.test", "xmpp.jabber.test"),
        `xmpp.ejabberd.test. IN A ${places.ejabberd.address}`,
        ...server("ejabberd.test", "xmpp.ejabberd.test"),
        ...server("conference.ejabberd.test", "xmpp.ejabberd.test"),
        ...server("nodialback.test", "xmpp.ejabberd.test"),
        `xmpp.elsewhere.test. IN A ${places.elsewhere.address}`,
        ...server("push.apps.test", "xmpp.elsewhere.test"),
        ...server("selfsigned.test", "xmpp.elsewhere.test"),
        ...server("wrongname.test", "xmpp.elsewhere.test"),
        "",
    ].join("\n");
}

/**
 * Logs in as an app does: the domain's `_xmpp-client` SRV record and its target's address, both
 * from the lab's DNS, then STARTTLS with the certificate checked for the domain; then it is
 * available (initial presence), so that messages to the bare address reach it.
 */
export async function loginThroughDns(
    lab: FederationLab,
    jid: string,
    password: string,
    resource = "test",
): Promise<Session> {
    const domain = jid.split("@")[1];
    const [service] = await lab.resolver.resolveSrv(`_xmpp-client._tcp.${domain}`);
    const [address] = await lab.resolver.resolve4(service.name);
    const session = await loginAt({ host: address, port: service.port }, jid, password, resource);
    await session.xmpp.send(xml("presence"));
    return session;
}
