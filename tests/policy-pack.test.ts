// The policy pack's rules, called directly (constructing a PolicyPack starts a
// server): the sample stacks comply, and each invariant's violation is reported.

import { expect } from "chai";
import * as rules from "../policy-pack/rules";
import { ofType, only, runProgram, type ProgramRun, type RecordedResource } from "../tools/mock-engine";

const asChecked = (r: RecordedResource): rules.CheckedResource => ({ type: r.type, props: r.inputs });
const resourceRules = [
    rules.crossAccountTrustRequiresExternalId,
    rules.crossAccountTrustForbidsTagSession,
    rules.preferencesKeepRunAsAndStreaming,
    rules.instancesRequireImdsV2,
];

function violations(run: ProgramRun, resources: rules.CheckedResource[] = run.resources.map(asChecked)): string[] {
    const context = { ownAccountIds: [run.account] };
    return [...resources.flatMap((r) => resourceRules.flatMap((rule) => rule(r, context))), ...rules.noInternetPathBesidePrivateNetwork(resources)];
}

const withProps = (r: RecordedResource, props: Record<string, unknown>): rules.CheckedResource => ({ type: r.type, props: { ...r.inputs, ...props } });

describe("policy pack rules", () => {
    let yours: ProgramRun;
    let their: ProgramRun;
    before(async () => {
        yours = await runProgram({ stack: "yours" });
        their = await runProgram({ stack: "their" });
        // A program that throws registers little or nothing, and "complies" vacuously: fail here instead.
        for (const run of [yours, their]) if (run.error !== undefined) throw run.error;
    });

    it("the sample stacks comply with every rule", () => {
        expect(violations(yours)).to.deep.equal([]);
        expect(violations(their)).to.deep.equal([]);
    });

    it("the jump role's same-account trust needs no external id, but counts as cross-account when the account is not the stack's", () => {
        const jump = asChecked(only(their, "aws:iam/role:Role", "remote-access-jump-role"));
        expect(rules.crossAccountTrustRequiresExternalId(jump, { ownAccountIds: [their.account] })).to.deep.equal([]);
        expect(rules.crossAccountTrustRequiresExternalId(jump, { ownAccountIds: [] })).to.have.length(1);
    });

    it("reports a cross-account trust without sts:ExternalId", () => {
        const grant = only(yours, "aws:iam/role:Role", "grant-Third_Party_A-role");
        const trust = JSON.parse(grant.inputs.assumeRolePolicy);
        delete trust.Statement[0].Condition.StringEquals;
        expect(
            rules.crossAccountTrustRequiresExternalId(withProps(grant, { assumeRolePolicy: JSON.stringify(trust) }), { ownAccountIds: [yours.account] }),
        ).to.have.length(1);
    });

    it("reports sts:TagSession (or sts:*) in a cross-account trust", () => {
        const grant = only(yours, "aws:iam/role:Role", "grant-Third_Party_A-role");
        for (const action of [["sts:AssumeRole", "sts:TagSession"], "sts:*"]) {
            const trust = JSON.parse(grant.inputs.assumeRolePolicy);
            trust.Statement[0].Action = action;
            expect(
                rules.crossAccountTrustForbidsTagSession(withProps(grant, { assumeRolePolicy: JSON.stringify(trust) }), { ownAccountIds: [yours.account] }),
                String(action),
            ).to.have.length(1);
        }
    });

    describe("action patterns, as IAM matches them", () => {
        it("matches Action globs case-insensitively, with * and ?", () => {
            for (const pattern of ["sts:AssumeRole", "sts:Assume*", "sts:AssumeRole*", "STS:*", "*", "sts:?ssumeRole", "Sts:assumerole"]) {
                expect(rules.statementAllowsAction({ Effect: "Allow", Action: pattern }, "sts:AssumeRole"), pattern).to.equal(true);
            }
            for (const pattern of ["sts:AssumeRoleWith*", "sts:?AssumeRole", "sts:Tag*", "sts", "iam:*", "sts:AssumeRole."]) {
                expect(rules.statementAllowsAction({ Effect: "Allow", Action: pattern }, "sts:AssumeRole"), pattern).to.equal(false);
            }
        });

        it("reads NotAction as every action its patterns do not match, and Deny as allowing nothing", () => {
            expect(rules.statementAllowsAction({ Effect: "Allow", NotAction: ["iam:*"] }, "sts:TagSession")).to.equal(true);
            expect(rules.statementAllowsAction({ Effect: "Allow", NotAction: ["iam:*"] }, "sts:AssumeRole")).to.equal(true);
            expect(rules.statementAllowsAction({ Effect: "Allow", NotAction: ["sts:*"] }, "sts:TagSession")).to.equal(false);
            expect(rules.statementAllowsAction({ Effect: "Allow", NotAction: "sts:Tag*" }, "sts:AssumeRole")).to.equal(true);
            expect(rules.statementAllowsAction({ Effect: "Deny", Action: "*" }, "sts:AssumeRole")).to.equal(false);
        });
    });

    describe("cross-account trust: external id", () => {
        // The sample grant role's trust, edited: statement 0 allows sts:AssumeRole with StringEquals sts:ExternalId,
        // statement 1 allows sts:SetSourceIdentity with no external id condition.
        const grantWith = (edit: (trust: any) => void) => {
            const grant = only(yours, "aws:iam/role:Role", "grant-Third_Party_A-role");
            const trust = JSON.parse(grant.inputs.assumeRolePolicy);
            edit(trust);
            return rules.crossAccountTrustRequiresExternalId(withProps(grant, { assumeRolePolicy: JSON.stringify(trust) }), { ownAccountIds: [yours.account] });
        };

        it("accepts StringEquals on sts:ExternalId, whatever the key's case and however the action is spelled", () => {
            expect(grantWith(() => undefined)).to.deep.equal([]);
            expect(
                grantWith((trust) => {
                    const id = trust.Statement[0].Condition.StringEquals["sts:ExternalId"];
                    trust.Statement[0].Condition.StringEquals = { "STS:EXTERNALID": id };
                    trust.Statement[0].Action = ["sts:Assume*", "STS:SetSourceIdentity"];
                }),
            ).to.deep.equal([]);
        });

        it("reports StringEqualsIfExists on sts:ExternalId, which passes when no external id is sent", () => {
            const found = grantWith((trust) => {
                const condition = trust.Statement[0].Condition;
                condition.StringEqualsIfExists = condition.StringEquals;
                delete condition.StringEquals;
            });
            expect(found).to.have.length(1);
            expect(found[0]).to.contain("StringEqualsIfExists").and.contain("passes when no external id is sent");
        });

        it("reports StringLike, ForAnyValue:StringEquals or an empty StringEquals value on sts:ExternalId", () => {
            for (const [what, condition] of [
                ["StringLike", { StringLike: { "sts:ExternalId": "*" } }],
                ["ForAnyValue:StringEquals", { "ForAnyValue:StringEquals": { "sts:ExternalId": "abc123" } }],
                ["empty", { StringEquals: { "sts:ExternalId": "" } }],
            ] as const) {
                expect(
                    grantWith((trust) => (trust.Statement[0].Condition = condition)),
                    what,
                ).to.have.length(1);
            }
        });

        for (const action of ["sts:Assume*", "sts:*", "STS:*", "*"]) {
            it(`reports ${action} without an external id`, () => {
                // Widening the SetSourceIdentity statement, which has no external id condition, lets AssumeRole through without one.
                const found = grantWith((trust) => (trust.Statement[1].Action = ["sts:SetSourceIdentity", action]));
                expect(found).to.have.length(1);
                expect(found[0]).to.contain("PartnerSetsSourceIdentity").and.contain("has no condition on sts:ExternalId");
            });
        }

        it("reports a NotAction statement without an external id that admits sts:AssumeRole, not one whose NotAction covers sts:*", () => {
            const notAction = (patterns: string[]) =>
                grantWith((trust) => {
                    delete trust.Statement[1].Action;
                    trust.Statement[1].NotAction = patterns;
                });
            expect(notAction(["iam:*"])).to.have.length(1);
            expect(notAction(["sts:*"])).to.deep.equal([]);
        });
    });

    describe("cross-account trust: sts:TagSession", () => {
        const grantWith = (edit: (trust: any) => void) => {
            const grant = only(yours, "aws:iam/role:Role", "grant-Third_Party_A-role");
            const trust = JSON.parse(grant.inputs.assumeRolePolicy);
            edit(trust);
            return rules.crossAccountTrustForbidsTagSession(withProps(grant, { assumeRolePolicy: JSON.stringify(trust) }), { ownAccountIds: [yours.account] });
        };

        it("accepts actions whose patterns do not reach sts:TagSession", () => {
            expect(grantWith(() => undefined)).to.deep.equal([]);
            expect(grantWith((trust) => (trust.Statement[0].Action = ["sts:Assume*", "sts:Set*"]))).to.deep.equal([]);
        });

        for (const action of ["sts:Tag*", "STS:TAGSESSION", "sts:*", "*", "sts:?agSession"]) {
            it(`reports ${action}`, () => {
                const found = grantWith((trust) => (trust.Statement[0].Action = ["sts:AssumeRole", action]));
                expect(found).to.have.length(1);
                expect(found[0]).to.contain("allows sts:TagSession");
            });
        }

        it("reports a NotAction that admits sts:TagSession, not a NotAction of sts:*", () => {
            const notAction = (patterns: string[]) =>
                grantWith((trust) => {
                    delete trust.Statement[1].Action;
                    trust.Statement[1].NotAction = patterns;
                });
            expect(notAction(["iam:*"])).to.have.length(1);
            expect(notAction(["sts:AssumeRole", "iam:*"])).to.have.length(1);
            expect(notAction(["sts:*"])).to.deep.equal([]);
        });
    });

    describe("session preferences: Run As default user", () => {
        const preferencesWith = (runAsDefaultUser: unknown) => {
            const document = only(yours, "aws:ssm/document:Document", "sessions-preferences");
            const content = JSON.parse(document.inputs.content);
            const changed = JSON.stringify({ ...content, inputs: { ...content.inputs, runAsDefaultUser } });
            return rules.preferencesKeepRunAsAndStreaming(withProps(document, { content: changed }));
        };

        it("accepts an unprivileged user", () => {
            expect(preferencesWith("no_sudo_user")).to.deep.equal([]);
            expect(preferencesWith("vendor-ops_2")).to.deep.equal([]);
        });

        for (const user of ["ec2-user", "ubuntu", "admin", "ssm-user", "root"]) {
            it(`reports ${user}, which has root or sudo`, () => {
                const found = preferencesWith(user);
                expect(found).to.have.length(1);
                expect(found[0]).to.contain(`runAsDefaultUser got "${user}", which has root or sudo`);
            });
        }

        for (const user of ["", "Bad User", 42]) {
            it(`reports ${JSON.stringify(user)}, which is not a user name Session Manager can run as`, () => {
                expect(preferencesWith(user)).to.have.length(1);
            });
        }
    });

    it("reports preferences without Run As, with Run As as a string, with root as default, or without streaming", () => {
        const document = only(yours, "aws:ssm/document:Document", "sessions-preferences");
        const content = JSON.parse(document.inputs.content);
        const variants: Array<[string, Record<string, unknown>]> = [
            ["Run As off", { runAsEnabled: false }],
            ["Run As as a string", { runAsEnabled: "true" }],
            ["root by default", { runAsDefaultUser: "root" }],
            ["streaming off", { cloudWatchStreamingEnabled: false }],
        ];
        for (const [what, change] of variants) {
            const changed = JSON.stringify({ ...content, inputs: { ...content.inputs, ...change } });
            expect(rules.preferencesKeepRunAsAndStreaming(withProps(document, { content: changed })), what).to.have.length(1);
        }
    });

    it("reports an instance without IMDSv2", () => {
        const instance = ofType(yours, "aws:ec2/instance:Instance")[0];
        expect(rules.instancesRequireImdsV2(withProps(instance, { metadataOptions: { httpTokens: "optional" } }))).to.have.length(1);
        expect(rules.instancesRequireImdsV2(withProps(instance, { metadataOptions: undefined }))).to.have.length(1);
    });

    it("reports an internet gateway, a NAT gateway or a default route beside the private network", () => {
        const base = yours.resources.map(asChecked);
        const routeTable = only(yours, "aws:ec2/routeTable:RouteTable");
        expect(rules.noInternetPathBesidePrivateNetwork([...base, { type: "aws:ec2/internetGateway:InternetGateway", props: {} }])).to.have.length(1);
        expect(rules.noInternetPathBesidePrivateNetwork([...base, { type: "aws:ec2/natGateway:NatGateway", props: {} }])).to.have.length(1);
        expect(
            rules.noInternetPathBesidePrivateNetwork([...base, { type: "aws:ec2/route:Route", props: { destinationCidrBlock: "0.0.0.0/0" } }]),
        ).to.have.length(1);
        expect(
            rules.noInternetPathBesidePrivateNetwork([...base, withProps(routeTable, { routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: "igw-1" }] })]),
        ).to.have.length(1);
    });

    it("leaves stacks without a PrivateSsmNetwork alone", () => {
        expect(rules.noInternetPathBesidePrivateNetwork([{ type: "aws:ec2/internetGateway:InternetGateway", props: {} }])).to.deep.equal([]);
    });
});
