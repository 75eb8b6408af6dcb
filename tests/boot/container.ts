import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unpackImage } from "./debian-image";
import { run, runQuietly, sleep } from "./shell";

export interface ContainerOptions {
    /** Machine name, also used for the console log file. */
    readonly name: string;
    readonly image: string;
    /** A folder of the test's own: the root filesystem goes below it, the console log beside it. */
    readonly workDir: string;
    readonly namespacePath: string;
    /** The user data exactly as the stack renders it. */
    readonly userData: string;
    /** A new instance id is a new server to cloud-init: first boot again. */
    readonly instanceId: string;
    readonly hostname: string;
    /** Keys Hetzner's metadata service would hand out (the server's `sshKeys`). */
    readonly publicKeys: readonly string[];
    /** The "Hetzner volume": a block device of the host, shown inside at the path Hetzner uses. */
    readonly volume: { readonly hostDevice: string; readonly devicePath: string };
    /** A folder of the host mounted over the container's apt archive (see package-cache.ts). */
    readonly packageCache?: { readonly hostDir: string; readonly containerDir: string };
}

/**
 * A Debian 13 system booted with systemd-nspawn from a fresh copy of the image, seeded with the
 * NoCloud datasource: the closest thing to a new Hetzner VPS that runs on this machine.
 */
export class BootedContainer {
    readonly consoleLog: string;
    /** The container's root filesystem, seen from the host. */
    readonly root: string;
    private nspawn?: ChildProcess;
    private init?: number;

    constructor(private readonly options: ContainerOptions) {
        this.root = join(options.workDir, `${options.name}-root`);
        this.consoleLog = join(options.workDir, `${options.name}-console.log`);
    }

    async boot(): Promise<void> {
        const { options } = this;
        rmSync(this.root, { recursive: true, force: true });
        unpackImage(options.image, this.root);
        const seed = join(this.root, "var/lib/cloud/seed/nocloud");
        mkdirSync(seed, { recursive: true });
        writeFileSync(join(seed, "user-data"), options.userData);
        writeFileSync(
            join(seed, "meta-data"),
            [
                `instance-id: ${options.instanceId}`,
                `local-hostname: ${options.hostname}`,
                "public-keys:",
                ...options.publicKeys.map((key) => `  - ${key.trim()}`),
                "",
            ].join("\n"),
        );
        // Straight into a file: a pipe would have to be drained by this process, which blocks in
        // synchronous calls while the container boots, and a full pipe stalls the container.
        const console = openSync(this.consoleLog, "w");
        this.nspawn = spawn(
            "systemd-nspawn",
            [
                "-D",
                this.root,
                "-b",
                "-M",
                options.name,
                "--register=no",
                "--keep-unit",
                `--network-namespace-path=${options.namespacePath}`,
                "--resolv-conf=copy-host",
                `--bind=${options.volume.hostDevice}:${options.volume.devicePath}`,
                ...(options.packageCache
                    ? [`--bind=${options.packageCache.hostDir}:${options.packageCache.containerDir}`]
                    : []),
            ],
            { stdio: ["ignore", console, console] },
        );
        closeSync(console);
        this.init = await this.findInit();
    }

    /** Runs a command inside the container, as root, and returns its stdout. */
    exec(...args: string[]): string {
        return run("nsenter", this.nsenterArgs(args));
    }

    /** Starts a command inside the container, as root, without waiting for it. */
    start(...args: string[]): ChildProcess {
        return spawn("nsenter", this.nsenterArgs(args), { stdio: "ignore" });
    }

    /** Like exec, but returns the exit status and output instead of throwing. */
    tryExec(...args: string[]): { status: number | null; stdout: string } {
        const result = spawnSync("nsenter", this.nsenterArgs(args), { encoding: "utf8" });
        return { status: result.status, stdout: result.stdout };
    }

    async stop(): Promise<void> {
        const nspawn = this.nspawn;
        if (!nspawn || nspawn.exitCode !== null || nspawn.signalCode !== null) return;
        const exited = new Promise((resolve) => nspawn.once("exit", resolve));
        nspawn.kill("SIGTERM"); // nspawn asks the container's systemd for an orderly shutdown
        const timeout = sleep(60_000).then(() => "timeout");
        if ((await Promise.race([exited, timeout])) === "timeout") {
            nspawn.kill("SIGKILL");
            await exited;
        }
        this.init = undefined;
    }

    removeRoot(): void {
        runQuietly("rm", ["-rf", this.root]);
    }

    consoleTail(lines = 60): string {
        try {
            return readFileSync(this.consoleLog, "utf8").split("\n").slice(-lines).join("\n");
        } catch {
            return "";
        }
    }

    /** Every namespace of the container's init, so a command runs as if started inside it. */
    private nsenterArgs(command: string[]): string[] {
        if (this.init === undefined) throw new Error("the container is not running");
        return ["-t", String(this.init), "-m", "-u", "-i", "-n", "-p", "-C", "--", ...command];
    }

    private async findInit(): Promise<number> {
        const nspawn = this.nspawn;
        for (let i = 0; i < 100; i++) {
            if (!nspawn?.pid || nspawn.exitCode !== null) break;
            // The container's systemd is nspawn's child; a short-lived helper child may come first.
            const children = spawnText("pgrep", ["-P", String(nspawn.pid), "-x", "systemd"])
                .split("\n")
                .filter(Boolean);
            if (children.length > 0) return Number(children[0]);
            await sleep(100);
        }
        throw new Error(`systemd-nspawn did not start the container:\n${this.consoleTail()}`);
    }
}

function spawnText(command: string, args: string[]): string {
    try {
        return run(command, args);
    } catch {
        return "";
    }
}
