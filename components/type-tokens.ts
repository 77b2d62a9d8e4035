// Type tokens of the components. A component package serves its components from one
// module, `index` ("third-party-ssm-access:index:ThirdPartyGrant"); before 0.2.0 each had a
// module of its own ("third-party-ssm-access:grants:ThirdPartyGrant"). The former token is
// kept as an alias, so stacks deployed before see their resources as the same resources:
// no replacement, no deletion.

import type * as pulumi from "@pulumi/pulumi";

/** The package name: the first part of every type token, and the SDK's name in other languages. Equal to `name` in components/package.json. */
export const PACKAGE_NAME = "third-party-ssm-access";

/** The component's type token in the package's `index` module. */
export function componentType(component: string): string {
    return `${PACKAGE_NAME}:index:${component}`;
}

/** The caller's options plus an alias from the component's token before 0.2.0 (module `formerModule`). */
export function withFormerType(component: string, formerModule: string, opts: pulumi.ComponentResourceOptions | undefined): pulumi.ComponentResourceOptions {
    return { ...opts, aliases: [...(opts?.aliases ?? []), { type: `${PACKAGE_NAME}:${formerModule}:${component}` }] };
}
