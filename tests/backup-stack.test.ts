/**
 * The backup in the real program (index.ts under Pulumi mocks): a step of its own over SSH, whose
 * stdin carries the generated repository password and the stack secret, and an output for paper.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { resourceNamed, resourcesOf, runStack, secretValue, StackRun } from "./support/stack-harness";

const COMMAND = "command:remote:Command";
const SSH_KEY =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
const FAMILY = {
    domain: "family.test",
    members: [{ username: "anna", name: "Anna", admin: true }],
};

let backedUp: StackRun;
let notBackedUp: StackRun;

before(() => {
    backedUp = runStack({
        ...FAMILY,
        backup: { repository: "sftp:u1@u1.your-storagebox.de:family-xmpp" },
        backupSshKey: SSH_KEY,
    });
    notBackedUp = runStack({ ...FAMILY, backup: false });
});

describe("the backup step", () => {
    it("brings the generated password and the SSH key on stdin, as a secret, never in the script", () => {
        const step = resourceNamed(backedUp, COMMAND, "family-backup");
        const [password, key] = String(secretValue(step.inputs.stdin)).split("\n");
        assert.equal(password, "pwFamilyBackupPassword");
        assert.equal(Buffer.from(key, "base64").toString("utf8"), `${SSH_KEY}\n`);
        assert.doesNotMatch(String(step.inputs.create), /pwFamilyBackupPassword|BEGIN OPENSSH/);
        assert.equal(step.inputs.logging, "stdoutAndStderr");
    });

    it("runs again on a new server, and removes the backup when the family turns it off", () => {
        const step = resourceNamed(backedUp, COMMAND, "family-backup");
        assert.deepEqual(step.inputs.triggers, [
            resourceNamed(backedUp, "hcloud:index/server:Server", "family-server").id,
        ]);
        assert.match(String(step.inputs.delete), /backups are off; nothing is backed up from now on/);
    });

    it("gives the repository's password as a secret output, for paper", () => {
        assert.equal(backedUp.outputs.backupPassword.secret, true);
        assert.equal(backedUp.outputs.backupPassword.value, "pwFamilyBackupPassword");
        assert.equal(backedUp.outputs.backupRepository.value, "sftp:u1@u1.your-storagebox.de:family-xmpp");
    });

    it("is not there without backups, and the outputs say that nothing is backed up", () => {
        assert.deepEqual(
            resourcesOf(notBackedUp, COMMAND).filter((command) => command.name === "family-backup"),
            [],
        );
        assert.equal(notBackedUp.outputs.backupPassword?.value, undefined);
        assert.match(String(notBackedUp.outputs.backupRepository.value), /nothing is backed up/);
    });
});
