// The access review: the sample yours stack's matrix, a widening config change showing
// in the matrix, JSON that matches the Markdown, and the command's behaviour.

import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { SESSION_PREFERENCES_DOCUMENT } from "../components/constants";
import { GRANT_FENCE_SID } from "../components/policies";
import { analyze, type ReviewReport } from "../tools/review/analyze";
import { renderMarkdown } from "../tools/review/markdown";
import { runForReview } from "../tools/stack-runs";
import { FIXTURES_DIR, PROJECT, type ProgramRun } from "../tools/mock-engine";
import { generatedConfig } from "../tools/bench/config";
import { changedFixture, fixturesCopy } from "./fixture-copies";
import { runReviewCommand } from "./review-command";

const AT = "2027-01-15T12:00:00Z";

async function review(stack: string, change?: (config: Record<string, any>) => void): Promise<ReviewReport> {
    const configFile = change ? changedFixture(stack, change) : path.join(FIXTURES_DIR, `Pulumi.${stack}.yaml`);
    const runs = await runForReview({ stack, configFile });
    if (runs.main.error) throw runs.main.error;
    return analyze(runs, AT);
}

const allowed = (report: ReviewReport) => report.matrix.filter((c) => c.allowed).map((c) => `${c.partner} -> ${c.instance} as ${c.runAs}`);

describe("access review", () => {
    let sample: ReviewReport;
    before(async () => (sample = await review("yours")));

    it("shows Third_Party_A allowed only on its instance and Third_Party_B only on its own, as their OS users", () => {
        expect(allowed(sample)).to.deep.equal([
            "Third_Party_A -> instance-third-party-a as os_user_a_alice",
            "Third_Party_B -> instance-third-party-b as os_user_b_bob",
        ]);
        // Only the pairs that matter are listed; every other pair the model asked about is refused, and counted.
        expect(sample.matrix).to.have.length(2);
        expect(sample.matrixSummary).to.equal(
            "Each of the 2 partners reaches exactly the instances tagged for it (2 in all), each as its own OS user; 2 of the 4 pairs of partner and instance are refused.",
        );
        expect(renderMarkdown(sample)).to.include("| Third_Party_A | **allowed** as `os_user_a_alice` | denied |");
    });

    it("at 40 partners, a report a person reads: the matrix in a sentence, a row per partner, checks and intent grouped", async () => {
        const generated = generatedConfig(40);
        const many = await review("yours", (config) => {
            config[`${PROJECT}:partners`] = generated.partners;
            config[`${PROJECT}:instances`] = generated.instances;
        });
        expect(many.matrixSummary).to.equal(
            "Each of the 40 partners reaches exactly the instances tagged for it (40 in all), each as its own OS user; 1560 of the 1600 pairs of partner and instance are refused.",
        );
        expect(many.matrix).to.have.length(40);
        const markdown = renderMarkdown(many);
        expect(markdown).to.not.include("| partner \\ instance |");
        expect(markdown).to.include("No exceptions (every pair that matters is in the JSON report):");
        expect(
            markdown.match(/^\| Partner_\d+ \| `SSMStartSession_IAM_Role_Partner_\d+` \| `os_user_\d+` \| never \| required \| 1 links allowed \|$/gm),
        ).to.have.length(40);
        expect(markdown).to.include(
            "| each of 40 partners | lists instances in eu-west-1, outside the stack's region | Denied | ImplicitlyDenied | holds for all 40 |",
        );
        expect(markdown).to.include("| each of 40 instances | a non-root user reaches the metadata service");
        expect(markdown).to.include("Each of the 40 partners has 4 intended accesses like Partner_0's (the JSON report lists every partner's):");
        expect(markdown).to.include("| 40 components, grant-Partner_0 to grant-Partner_39 (`third-party-ssm-access:index:ThirdPartyGrant`) |");
        // An exception is listed: a partner whose access has ended, refused on its own instance.
        const ended = await review("yours", (config) => {
            config[`${PROJECT}:partners`] = (generated.partners as Array<Record<string, unknown>>).map((p, i) =>
                i === 7 ? { ...p, expiresAt: "2027-01-01T00:00:00Z" } : p,
            );
            config[`${PROJECT}:instances`] = generated.instances;
        });
        expect(ended.matrixSummary).to.equal(
            "39 pairs of partner and instance are allowed (listed below); 1561 of the 1600 pairs of partner and instance are refused.",
        );
        const endedMarkdown = renderMarkdown(ended);
        expect(endedMarkdown).to.include("The one exception (every pair that matters is in the JSON report):");
        expect(endedMarkdown).to.match(/^\| Partner_7 \| instance-7 \| ExplicitlyDenied \| - \| 2027-01-01T00:00:00Z \| expired at 2027-01-01T00:00:00Z/m);
        // The JSON keeps every detail the Markdown groups.
        expect(many.proof!.intended.filter((line) => /Partner_\d+/.test(line))).to.have.length(160);
        expect(many.protections.filter((p) => p.subject.startsWith("partner "))).to.have.length(160);
    });

    it("evaluates the chain: alice to the jump role, the jump role to the grant, with the external id", () => {
        const a = sample.partners.find((p) => p.name === "Third_Party_A")!;
        expect(a.chain.map((l) => [l.from.split(":").pop(), l.decision])).to.deep.equal([
            ["role/3P_IAM_Assume_Role", "Allowed"],
            ["user/alice", "Allowed"],
        ]);
        expect(a).to.include({ runAs: "os_user_a_alice", requiresSourceIdentity: true, expiresAt: null });
    });

    it("changes the matrix when a config change widens access", async () => {
        const widened = await review("yours", (config) => {
            config[`${PROJECT}:instances`][1].partner = "Third_Party_A";
        });
        expect(allowed(widened)).to.deep.equal([
            "Third_Party_A -> instance-third-party-a as os_user_a_alice",
            "Third_Party_A -> instance-third-party-b as os_user_a_alice",
        ]);
        expect(widened.findings.map((f) => f.message)).to.include(
            "Third_Party_B can reach no instance of this stack: only instances you tag ExternalAccessGrantedTo=Third_Party_B yourself.",
        );
    });

    it("reports an instance tagged for a partner that reaches it no more (its access expired)", async () => {
        const orphan = await review("yours", (config) => {
            config[`${PROJECT}:partners`][1].expiresAt = "2027-01-01T00:00:00Z";
        });
        expect(orphan.findings.map((f) => f.message)).to.include(
            "instance instance-third-party-b is tagged ExternalAccessGrantedTo=Third_Party_B, but no partner in this review can reach it.",
        );
        expect(orphan.matrix.filter((c) => c.instance === "instance-third-party-b" && c.allowed)).to.deep.equal([]);
    });

    it("reports an expiry within 14 days, an expired grant, and a grant without source identity", async () => {
        const changed = await review("yours", (config) => {
            config[`${PROJECT}:partners`][0].expiresAt = "2027-01-20T00:00:00Z";
            config[`${PROJECT}:partners`][1].expiresAt = "2027-01-01T00:00:00Z";
            config[`${PROJECT}:partners`][1].requireSourceIdentity = false;
        });
        const messages = changed.findings.map((f) => f.message).join("\n");
        expect(messages).to.include("Third_Party_A's access expires at 2027-01-20T00:00:00Z, within 14 days.");
        expect(messages).to.include("Third_Party_B's access expired at 2027-01-01T00:00:00Z");
        expect(messages).to.include("Third_Party_B's grant does not require a source identity");
        expect(changed.partners.find((p) => p.name === "Third_Party_B")!.chain[0].decision).to.equal("ImplicitlyDenied");
    });

    it("names the permissions boundary every role carries, and a role left without it", async () => {
        const boundary = "arn:aws:iam::111111111111:policy/ThirdPartyAccessBoundary";
        const bounded = await review("yours", (config) => (config[`${PROJECT}:permissionsBoundaryArn`] = boundary));
        expect(bounded.findings.map((f) => f.message)).to.include(
            `Every role this stack creates (5) has the permissions boundary ${boundary}; its text is not evaluated here, and it can only narrow the access shown.`,
        );
        const configFile = changedFixture("yours", (config) => (config[`${PROJECT}:permissionsBoundaryArn`] = boundary));
        const runs = await runForReview({ stack: "yours", configFile });
        delete runs.main.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === "instances-role")!.inputs.permissionsBoundary;
        expect((await analyze(runs, AT)).findings.map((f) => f.message)).to.include(`Roles without the permissions boundary ${boundary}: instances-role.`);
        expect(sample.findings.some((f) => f.message.includes("permissions boundary"))).to.equal(false);
    });

    it("says what raises an alert and who is subscribed, and warns with alerts off", async () => {
        expect(sample.findings.map((f) => `${f.severity}: ${f.message}`)).to.include(
            "warning: Every StartSession, ResumeSession and TerminateSession, every AssumeRole of a grant role (refused ones included; the grants accept only this region's STS endpoint) and every end of access is published to an encrypted SNS topic (output alertTopicArn), as CloudTrail records them: a trail logging management events in us-east-1 is needed. Nobody is subscribed yet (alerts.emails, alerts.httpsEndpoints).",
        );
        const off = await review("yours", (config) => (config[`${PROJECT}:alerts`] = { enabled: false }));
        expect(off.findings.map((f) => f.message)).to.include("No alerts on sessions or grant-role AssumeRole calls (alerts.enabled is false).");
    });

    it("says whether the partner's jump role requires MFA, and warns when its IAM users opted out", async () => {
        const mfa = await review("their", (config) => (config[`${PROJECT}:mfa`] = { maxAgeSeconds: 3600 }));
        expect(mfa.findings.map((f) => f.message)).to.include(
            "The jump role 3P_IAM_Assume_Role requires an MFA sign-in within 3600 seconds of whoever assumes it.",
        );
        // The default for IAM users.
        expect(sample.findings.map((f) => f.message)).to.include(
            "The jump role 3P_IAM_Assume_Role requires an MFA sign-in within 43200 seconds of whoever assumes it.",
        );
        const optedOut = await review("their", (config) => (config[`${PROJECT}:mfa`] = { required: false }));
        expect(optedOut.findings.map((f) => `${f.severity}: ${f.message}`)).to.include(
            "warning: The jump role 3P_IAM_Assume_Role does not require MFA of the IAM users it trusts (mfa.required is false on its their stack): a leaked access key alone opens a shell.",
        );
    });

    it("says how long archived transcripts are kept and that requests on the archive are logged", async () => {
        const archived = await review("yours", (config) => {
            config[`${PROJECT}:sessions`].s3Archive = true;
            config[`${PROJECT}:sessions`].archiveExpirationDays = 2557;
        });
        expect(archived.findings.map((f) => f.message)).to.include(
            "Archived transcripts are locked 365 days (GOVERNANCE), move to GLACIER_IR after 90 days, and expire after 2557 days; every request on the archive is logged (S3 server access logs, prefix archive-access/).",
        );
        expect(sample.findings.some((f) => f.message.startsWith("Archived transcripts"))).to.equal(false);
        // The archive's lock is checked on the archive, not on the bucket its access logs go to (which holds no transcript).
        expect(archived.protections.filter((p) => p.check.startsWith("an upload replaces the only copy")).map((p) => `${p.subject}: ${p.holds}`)).to.deep.equal(
            ["bucket sessions-archive: true"],
        );
        expect(archived.findings.filter((f) => f.message.startsWith("protection regressed"))).to.deep.equal([]);
        // And it bites: the archive without its Object Lock is a regression.
        const runs = await runForReview({
            stack: "yours",
            configFile: changedFixture("yours", (config) => {
                config[`${PROJECT}:sessions`].s3Archive = true;
            }),
        });
        runs.main.resources = runs.main.resources.filter((r) => r.type !== "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
        expect((await analyze(runs, AT)).findings.map((f) => f.message)).to.include(
            "protection regressed: bucket sessions-archive: an upload replaces the only copy of an archived transcript (versioning and Object Lock) should be refused, and is allowed.",
        );
    });

    it("shows an expired partner as expired in the matrix, denied by the permissions' own expiry", async () => {
        const changed = await review("yours", (config) => {
            config[`${PROJECT}:partners`][0].expiresAt = "2027-01-01T00:00:00Z";
        });
        const own = changed.matrix.find((c) => c.partner === "Third_Party_A" && c.instance === "instance-third-party-a")!;
        expect(own).to.include({ expired: true, allowed: false, decision: "ExplicitlyDenied" });
        expect(own.reason).to.equal("expired at 2027-01-01T00:00:00Z: denied by NothingAfterExpiry");
        expect(changed.matrix.find((c) => c.partner === "Third_Party_B" && c.instance === "instance-third-party-b")!.expired).to.equal(false);
        expect(renderMarkdown(changed)).to.match(/\| Third_Party_A \| expired \| expired \|/);
    });

    it("says a grant reaches every instance of the account and region carrying its tag, not only the stack's", () => {
        expect(sample.partners.find((p) => p.name === "Third_Party_A")!.reach).to.equal(
            "every instance (and hybrid managed instance) of account 111111111111 in us-east-1 tagged ExternalAccessGrantedTo=Third_Party_A, whether this stack launched it or not",
        );
    });

    it("evaluates the instance role by content, and every other protection, all holding on the sample", () => {
        const checks = sample.protections.map((p) => `${p.subject}: ${p.check}`);
        expect(checks).to.include.members([
            "instance role instances-role: the SSM agent registers the instance, from the instance",
            "instance role instances-role: reads an SSM parameter of the account",
            "instance role instances-role: its credentials, taken off the instance, write the audit log group from elsewhere",
            "instance instance-third-party-a: a partner's non-root shell writes another partner's audit log stream",
            "partner Third_Party_A: reads a bucket of yours whose policy invites every principal of the account",
            "partner Third_Party_B: its trusted principal names the grant session after someone other than its source identity",
            "network: a shell user uploads to a bucket of its own account through the S3 endpoint",
        ]);
        expect(sample.protections.filter((p) => !p.holds)).to.deep.equal([]);
        expect(sample.findings.map((f) => f.message).join("\n")).to.not.include("protection regressed");
    });

    describe("flags a protection that regresses", () => {
        // The sample stack's runs with one produced resource changed, as a careless edit of a component would.
        async function reviewedAfter(change: (main: ProgramRun) => void): Promise<ReviewReport> {
            const runs = await runForReview({ stack: "yours", configFile: path.join(FIXTURES_DIR, "Pulumi.yours.yaml") });
            change(runs.main);
            return analyze(runs, AT);
        }
        const regressionsOf = (report: ReviewReport) => report.findings.map((f) => f.message).filter((m) => m.startsWith("protection regressed"));
        const regressed = async (change: (main: ProgramRun) => void) => regressionsOf(await reviewedAfter(change));
        const policyNamed = (main: ProgramRun, name: string) => main.resources.find((r) => r.name === name)!;
        const withoutStatement = (json: string, sid: string) =>
            JSON.stringify({ ...JSON.parse(json), Statement: JSON.parse(json).Statement.filter((s: { Sid?: string }) => s.Sid !== sid) });

        it("the metadata guard left out of the instances' user data", async () => {
            const flagged = await regressed((main) =>
                main.resources.filter((r) => r.type === "aws:ec2/instance:Instance").forEach((i) => delete i.inputs.userData),
            );
            expect(flagged).to.include(
                "protection regressed: instance instance-third-party-a: a partner's non-root shell writes another partner's audit log stream should be refused, and is allowed.",
            );
        });

        it("an AWS managed policy attached to the instance role: evaluated by its snapshot in the protections, and said so", async () => {
            const report = await reviewedAfter((main) => {
                const role = main.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === "instances-role")!;
                main.resources.push({
                    ...role,
                    urn: `${role.urn}-core`,
                    type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    name: "instances-core",
                    inputs: { role: role.inputs.name ?? role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
                });
            });
            const flagged = regressionsOf(report);
            // The blog's policy lets whoever holds the instance role read every parameter of the account.
            expect(flagged).to.include(
                "protection regressed: instance role instances-role: reads an SSM parameter of the account should be refused, and is allowed.",
            );
            expect(report.findings.map((f) => f.message)).to.include(
                "instances-role also has AmazonSSMManagedInstanceCore (evaluated from its text as of 2026-11-25: AWS may have changed it since).",
            );
        });

        // The grant's trust and permissions are held to what the yours stack states (its grants output), not read for it.
        const trustOf = (main: ProgramRun, partner: string) =>
            main.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === `grant-${partner}-role`)!;
        // Third_Party_A's trust with each statement that asks for the external id changed by `change`.
        const changeGrantTrust = (main: ProgramRun, change: (condition: Record<string, any>) => void) => {
            const role = trustOf(main, "Third_Party_A");
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            for (const statement of trust.Statement.filter((st: { Condition?: any }) => st.Condition?.StringEquals?.["sts:ExternalId"] !== undefined))
                change(statement.Condition);
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
        };
        it("a grant's trust stripped of its source-identity binding though the config requires it", async () => {
            const flagged = await regressed((main) => {
                const role = trustOf(main, "Third_Party_A");
                const trust = JSON.parse(role.inputs.assumeRolePolicy);
                for (const statement of trust.Statement.filter((s: { Condition?: Record<string, any> }) => s.Condition !== undefined)) {
                    delete statement.Condition.Null;
                    delete statement.Condition.StringEquals?.["sts:RoleSessionName"];
                }
                role.inputs.assumeRolePolicy = JSON.stringify(trust);
            });
            expect(flagged).to.include(
                "protection regressed: partner Third_Party_A: its trusted principal names the grant session after someone other than its source identity should be refused, and is allowed.",
            );
        });

        it("a grant's end of access dropped from its trust and its permissions though the config keeps it", async () => {
            const configFile = changedFixture("yours", (config) => (config[`${PROJECT}:partners`][0].expiresAt = "2027-02-01T00:00:00Z"));
            const runs = await runForReview({ stack: "yours", configFile });
            const role = trustOf(runs.main, "Third_Party_A");
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            for (const statement of trust.Statement) delete statement.Condition?.DateLessThan;
            role.inputs.assumeRolePolicy = JSON.stringify(trust);
            const policy = policyNamed(runs.main, "grant-Third_Party_A-session-access");
            policy.inputs.policy = withoutStatement(policy.inputs.policy, "NothingAfterExpiry");
            const report = await analyze(runs, AT);
            expect(report.partners.find((p) => p.name === "Third_Party_A")!.expiresAt).to.equal("2027-02-01T00:00:00Z");
            expect(report.findings.map((f) => f.message)).to.include(
                "protection regressed: partner Third_Party_A: starts a session after its expiry with credentials issued before it should be refused, and is allowed.",
            );
        });

        it("a grant's revocation dropped from its permissions though the config keeps it", async () => {
            const configFile = changedFixture("yours", (config) => (config[`${PROJECT}:partners`][0].revokeSessionsIssuedBefore = "2027-01-10T00:00:00Z"));
            const runs = await runForReview({ stack: "yours", configFile });
            const kept = (await analyze(runs, AT)).findings.map((f) => f.message);
            expect(kept.filter((m) => m.startsWith("protection"))).to.deep.equal([]);
            const policy = policyNamed(runs.main, "grant-Third_Party_A-session-access");
            policy.inputs.policy = withoutStatement(policy.inputs.policy, "RevokeSessionsIssuedBefore");
            expect((await analyze(runs, AT)).findings.map((f) => f.message)).to.include(
                "protection regressed: partner Third_Party_A: starts a session with credentials issued before its revocation instant should be refused, and is allowed.",
            );
        });

        it("a grant's trust comparing the external id loosely (any value)", async () => {
            const flagged = await regressed((main) => {
                changeGrantTrust(main, (condition) => {
                    delete condition.StringEquals["sts:ExternalId"];
                    condition.StringLike = { "sts:ExternalId": "*" };
                });
            });
            expect(flagged).to.include(
                "protection regressed: partner Third_Party_A: its trusted principal assumes the grant with a wrong external id should be refused, and is allowed.",
            );
        });

        it("a refusal that proves nothing is said: the trust's external id changed, so its session-naming check cannot show the binding", async () => {
            const report = await reviewedAfter((main) =>
                changeGrantTrust(main, (condition) => {
                    condition.StringEquals["sts:ExternalId"] = "not-the-stated-one";
                    delete condition.Null;
                    delete condition.StringEquals["sts:RoleSessionName"];
                }),
            );
            expect(report.findings.map((f) => f.message)).to.include(
                "protection not shown: partner Third_Party_A: its trusted principal names the grant session after someone other than its source identity: the same request with the stated external id, named after its source identity, is refused too, so its refusal proves nothing.",
            );
        });

        it("the preferences streaming transcripts to a log group no stack here creates", async () => {
            const report = await reviewedAfter((main) => {
                const document = main.resources.find((r) => r.type === "aws:ssm/document:Document" && r.inputs.name === SESSION_PREFERENCES_DOCUMENT)!;
                const content = JSON.parse(document.inputs.content);
                content.inputs.cloudWatchLogGroupName = "other-group";
                document.inputs.content = JSON.stringify(content);
            });
            expect(report.findings.map((f) => f.message)).to.include(
                "The session preferences stream transcripts to log group other-group, which no stack in this review creates: its retention, encryption and who may write to it are not reviewed, and the audit-log protections have no group to probe.",
            );
        });

        it("a role carrying the access tag that the stack states no grant for", async () => {
            const report = await reviewedAfter((main) => {
                const role = trustOf(main, "Third_Party_B");
                main.resources.push({ ...role, urn: `${role.urn}-stray`, name: "stray-role", inputs: { ...role.inputs, name: "stray-role" } });
            });
            expect(report.partners.map((p) => p.grantRoleArn)).to.include("arn:aws:iam::111111111111:role/stray-role");
            expect(report.findings.map((f) => f.message)).to.include(
                "Role stray-role carries ExternalAccessGrantedTo=Third_Party_B, so it reaches the instances tagged for Third_Party_B, but the stack's grants output states no grant with this role: its trust and end of access are stated nowhere for the review to hold them to.",
            );
        });

        it("the instance role's credentials perimeter removed", async () => {
            const flagged = await regressed((main) => (main.resources = main.resources.filter((r) => r.name !== "instances-credentials-perimeter")));
            expect(flagged).to.deep.equal([
                "protection regressed: instance role instances-role: its credentials, taken off the instance, write the audit log group from elsewhere should be refused, and is allowed.",
            ]);
        });

        it("the fence removed from a grant", async () => {
            const flagged = await regressed((main) => {
                const policy = policyNamed(main, "grant-Third_Party_A-session-access");
                policy.inputs.policy = withoutStatement(policy.inputs.policy, GRANT_FENCE_SID);
            });
            expect(flagged).to.include.members([
                "protection regressed: partner Third_Party_A: reads a bucket of yours whose policy invites every principal of the account should be refused, and is allowed.",
                "protection regressed: partner Third_Party_A: has no unconditional NothingElse statement denying, on every resource, what it does not allow should be refused, and is allowed.",
            ]);
        });

        it("the fence of a grant made conditional (open wherever its condition does not hold)", async () => {
            const flagged = await regressed((main) => {
                const policy = policyNamed(main, "grant-Third_Party_A-session-access");
                const document = JSON.parse(policy.inputs.policy);
                for (const statement of document.Statement.filter((s: { Sid?: string }) => s.Sid === GRANT_FENCE_SID))
                    statement.Condition = { Bool: { "aws:ViaAWSService": "true" } };
                policy.inputs.policy = JSON.stringify(document);
            });
            expect(flagged).to.include(
                "protection regressed: partner Third_Party_A: has no unconditional NothingElse statement denying, on every resource, what it does not allow should be refused, and is allowed.",
            );
        });

        it("the their stack's binding of each person's names removed, on both the jump role's trust and the group's policy", async () => {
            const runs = await runForReview({ stack: "their", configFile: path.join(FIXTURES_DIR, "Pulumi.their.yaml") });
            const unbind = (json: string) =>
                JSON.stringify({
                    ...JSON.parse(json),
                    Statement: JSON.parse(json).Statement.map((s: { Condition?: Record<string, unknown> }) => ({
                        ...s,
                        Condition: { ...s.Condition, StringEquals: undefined },
                    })),
                });
            const role = runs.main.resources.find((r) => r.name === "remote-access-jump-role")!;
            role.inputs.assumeRolePolicy = unbind(role.inputs.assumeRolePolicy);
            const group = runs.main.resources.find((r) => r.name === "remote-access-group-assume-jump")!;
            group.inputs.policy = unbind(group.inputs.policy);
            const flagged = (await analyze(runs, AT)).findings.map((f) => f.message).filter((m) => m.startsWith("protection regressed"));
            expect(flagged).to.deep.equal([
                'protection regressed: user alice: assumes 3P_IAM_Assume_Role as someone else (source identity and session name "someone-else") should be refused, and is allowed.',
            ]);
        });

        it("the endpoint policies removed", async () => {
            const flagged = await regressed((main) =>
                main.resources.filter((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint").forEach((e) => delete e.inputs.policy),
            );
            expect(flagged).to.include(
                "protection regressed: network: a shell user uploads to a bucket of its own account through the S3 endpoint should be refused, and is allowed.",
            );
            expect(flagged.filter((m) => m.includes("(no endpoint policy)"))).to.have.length(5);
        });
    });

    it("estimates the fixed monthly cost from the dated price table, endpoints first", () => {
        expect(sample.cost.asOf).to.match(/^\d{4}-\d{2}-\d{2}$/);
        expect(sample.cost.lines[0]).to.deep.include({ item: "interface endpoints (4 services x zones)", quantity: 8, monthly: 58.4 });
        expect(sample.cost.totalMonthly).to.equal(Math.round(sample.cost.lines.reduce((s, l) => s + l.monthly, 0) * 100) / 100);
    });

    it("costs only what the stack builds: no endpoint charges when it builds no network", async () => {
        const none = await review("yours", (config) => {
            delete config[`${PROJECT}:instances`];
        });
        // The alert topic's key is all that is billed by the month; with alerts off, nothing is.
        expect(none.cost.lines.map((l) => `${l.item} x ${l.quantity}`)).to.deep.equal(["KMS customer-managed key x 1"]);
        expect(none.cost.totalMonthly).to.equal(1);
        const quiet = await review("yours", (config) => {
            delete config[`${PROJECT}:instances`];
            config[`${PROJECT}:alerts`] = { enabled: false };
        });
        expect(quiet.cost.totalMonthly).to.equal(0);
        expect(none.findings.map((f) => f.message)).to.include(
            "No network is built (no instances): the grants apply to instances you tag yourself, and there are no endpoint charges.",
        );
    });

    it("in a network of your own: the agent's calls hold, and the missing perimeter is the one protection reported, naming the setting", async () => {
        const own = (reaches: boolean) =>
            review("yours", (config) => {
                config[`${PROJECT}:network`] = {
                    vpcId: "vpc-0123456789abcdef0",
                    subnetIds: ["subnet-0123456789abcdef0"],
                    ...(reaches ? { reachesAwsThroughEndpoints: true } : {}),
                };
            });
        const regressed = (report: ReviewReport) => report.protections.filter((p) => !p.holds).map((p) => p.check);
        expect(regressed(await own(false))).to.deep.equal([
            "its credentials, taken off the instance, write the audit log group from elsewhere (in a network of your own the perimeter needs network.reachesAwsThroughEndpoints)",
        ]);
        expect(regressed(await own(true))).to.deep.equal([]);
    });

    it("renders the same Markdown from the JSON report", () => {
        const json = JSON.stringify(sample, null, 2);
        expect(renderMarkdown(JSON.parse(json))).to.equal(renderMarkdown(sample));
        expect(renderMarkdown(sample)).to.include("```mermaid\nflowchart LR");
    });

    it("reviews the their stack: its own partner's chain and instances", async () => {
        const their = await review("their");
        expect(their.side).to.equal("their");
        expect(their.partners.map((p) => p.name)).to.deep.equal(["Third_Party_A"]);
        expect(allowed(their)).to.deep.equal(["Third_Party_A -> instance-third-party-a as os_user_a_alice"]);
        // Its own jump role only: another partner's grant (in the picture through the yours stack) is no jump role.
        expect(their.findings.map((f) => f.message).filter((m) => m.startsWith("The jump role"))).to.deep.equal([
            "The jump role 3P_IAM_Assume_Role requires an MFA sign-in within 43200 seconds of whoever assumes it.",
        ]);
    });

    it("as a command: Markdown on stdout, progress on stderr, JSON with --format json", async () => {
        const markdown = await runReviewCommand(["--config", path.join(FIXTURES_DIR, "Pulumi.yours.yaml"), "--at", AT]);
        expect(markdown.code).to.equal(0);
        expect(markdown.stdout).to.match(/^# Access review: stack `yours`/);
        expect(markdown.stderr).to.match(/review: ran yours/);
        const json = await runReviewCommand(["--config", path.join(FIXTURES_DIR, "Pulumi.yours.yaml"), "--at", AT, "--format", "json"]);
        const parsed = JSON.parse(json.stdout) as ReviewReport;
        expect(renderMarkdown(parsed)).to.equal(markdown.stdout);
    });

    it("as a command: prints config errors as pulumi up does and exits non-zero", async () => {
        const file = path.join(fixturesCopy(), "Pulumi.broken.yaml");
        fs.writeFileSync(
            file,
            fs.readFileSync(path.join(FIXTURES_DIR, "Pulumi.yours.yaml"), "utf8").replace('"333333333333"\n      osUser', '"333"\n      osUser'),
        );
        const result = await runReviewCommand(["--config", file]);
        expect(result.code).to.equal(1);
        expect(result.stdout).to.equal("");
        expect(result.stderr)
            .to.include(`pulumi:pulumi:Stack (${PROJECT}-broken)`)
            .and.include("error: Invalid stack configuration")
            .and.include("partners[1].accountId");
    });
});
