import { gunzipSync } from "node:zlib";
import { load } from "js-yaml";

export interface WrittenFile {
    readonly path: string;
    /** The content as the file on the server has it (decompressed where the user data compressed it). */
    readonly content: string;
    readonly owner: string;
    readonly permissions: string;
    readonly defer?: boolean;
    readonly encoding?: string;
}

export interface CloudConfig {
    readonly packages: string[];
    readonly write_files: WrittenFile[];
    readonly runcmd: string[][];
    readonly ssh_pwauth: boolean;
    readonly disable_root: boolean;
}

/** The user data as cloud-init reads it, each file's content as cloud-init writes it. */
export function readCloudConfig(userData: string): CloudConfig {
    const document = load(userData) as CloudConfig;
    return {
        ...document,
        write_files: document.write_files.map((file) => ({
            ...file,
            content:
                file.encoding === "gz+b64"
                    ? gunzipSync(Buffer.from(file.content, "base64")).toString("utf8")
                    : file.content,
        })),
    };
}
