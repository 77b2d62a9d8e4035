// The account, region and partition a component's resources land in, read from
// the provider the component uses (invokes inherit it through `parent`).

import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsScope } from "./policies";

/**
 * The scope a component uses: the one its caller passed (one lookup shared by many
 * components), or a lookup through the component's own provider.
 */
export function scopeFor(component: pulumi.Resource, given: pulumi.Input<AwsScope> | undefined): pulumi.Output<AwsScope> {
    return given === undefined ? awsScope(component) : pulumi.output(given);
}

/** Looks up the AWS scope of `parent`'s provider (the default provider without one). */
export function awsScope(parent?: pulumi.Resource): pulumi.Output<AwsScope> {
    const opts = { parent };
    return pulumi
        .all([aws.getPartitionOutput({}, opts), aws.getRegionOutput({}, opts), aws.getCallerIdentityOutput({}, opts)])
        .apply(([partition, region, identity]) => ({
            partition: partition.partition,
            dnsSuffix: partition.dnsSuffix,
            reverseDnsPrefix: partition.reverseDnsPrefix,
            region: region.region,
            accountId: identity.accountId,
        }));
}
