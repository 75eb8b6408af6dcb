import { mkdirSync, writeFileSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { hetznerVolumeDevice, renderCloudInit } from "../render/cloud-init";
import { renderDnsRecords, renderZoneFile } from "../render/dns";
import { renderServerFiles } from "../render/server-files";
import { loadStackConfigOrExit } from "./load-stack-config";

/**
 * `npm run render -- --stack-config Pulumi.<stack>.yaml --out <dir>`: everything the server gets,
 * from the plain values of a stack config file, without any cloud call. Addresses and the volume
 * id are only known after `pulumi up`; documentation values stand in unless given.
 */
const { values } = parseArgs({
    options: {
        "stack-config": { type: "string" },
        out: { type: "string" },
        ipv4: { type: "string", default: "192.0.2.10" },
        ipv6: { type: "string", default: "2001:db8::1" },
        "volume-id": { type: "string", default: "0" },
        "deploy-public-key": { type: "string" },
    },
});
if (!values["stack-config"] || !values.out) {
    console.error(
        "usage: npm run render -- --stack-config Pulumi.<stack>.yaml --out <dir> " +
            "[--ipv4 A] [--ipv6 AAAA] [--volume-id N] [--deploy-public-key KEY]",
    );
    process.exit(2);
}
if (!isIPv4(values.ipv4 ?? "") || !isIPv6(values.ipv6 ?? "")) {
    console.error("--ipv4 must be an IPv4 address and --ipv6 an IPv6 address");
    process.exit(2);
}
const model = loadStackConfigOrExit(values["stack-config"]);
const out = values.out;

const write = (path: string, content: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
};
const volumeDevice = hetznerVolumeDevice(values["volume-id"] ?? "0");
const addresses = { ipv4: values.ipv4 ?? "", ipv6: values.ipv6 ?? "" };
write(
    join(out, "cloud-init.yaml"),
    renderCloudInit(model, volumeDevice, addresses, values["deploy-public-key"]),
);
write(
    join(out, "dns.zone"),
    renderZoneFile(renderDnsRecords(model, { ipv4: addresses.ipv4, ipv6: addresses.ipv6 })),
);
for (const file of renderServerFiles(model, volumeDevice, addresses, values["deploy-public-key"]))
    write(join(out, "rootfs", file.path), file.content);
console.log(`Rendered ${model.hostname} for ${model.domain} into ${out}`);
