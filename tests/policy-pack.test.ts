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
