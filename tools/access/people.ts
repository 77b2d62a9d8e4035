// The person dimension of a per-person grant: for each person its yours stack states
// (personOsUsers), which OS users that person can obtain through each principal the grant's
// trust names, as the partner's administrator may make that principal (any identity policy,
// any session name), so only the grant's trust decides. A person must obtain their own OS
// user and nothing else. Each is asked a constant number of questions: their own OS user,
// another person's (the next in the list, so every person's is asked for by someone), root,
// every value the trust compares the Run As tag with literally, and no tag at all (the role
// carries no Run As tag: that session would run as the preferences' default user). Values
// the trust does not name behave like root: the trust compares the tag with
// `<base>-${aws:SourceIdentity}` alone. Linear in people.

import { RUN_AS_TAG_KEY } from "../../components/constants";
import { asList } from "../../components/policies";
import type { GrantOutput } from "../../stacks/outputs";
import { decide, partnerControlled, type AccessRequest } from "../iam/evaluate";
import { findPrincipal, type IamPicture, type IamPrincipal } from "../iam/picture";
import { chainedAs, runAsTagged } from "../iam/probes";

/** What one person of a per-person grant obtains. */
export interface PersonRunAs {
    /** The person: the source identity their chain carries, and the role session name. */
    person: string;
    /** The OS user the person runs as: their own, when the grant is obtained with it; null when it is refused. */
    osUser: string | null;
    /** Anything else the person obtains: another OS user, or a session without the Run As tag (then the default user). Each is a finding. */
    alsoObtains: string[];
    /**
     * Whether the person obtains their own OS user through the trusted principal with its own
     * policies as produced (the partner's stack, when the review sees it): false when the
     * partner's side refuses (its jump role may not tag the session); undefined when unseen.
     */
    asProduced?: boolean;
}

/** What `alsoObtains` says of a session obtained without the Run As tag. */
export const WITHOUT_THE_TAG = "a session without the Run As tag (the preferences' default user)";

const PRIVILEGED = "root";

// The values a trust compares the Run As tag with, other than through a policy variable.
function literalRunAsValues(grant: IamPrincipal): string[] {
    const key = `aws:requesttag/${RUN_AS_TAG_KEY.toLowerCase()}`;
    return (grant.trustPolicy?.Statement ?? []).flatMap((s) =>
        Object.values(s.Condition ?? {}).flatMap((operands) =>
            Object.entries(operands as Record<string, string | string[]>)
                .filter(([k]) => k.toLowerCase() === key)
                .flatMap(([, v]) => asList(v))
                .filter((v) => !v.includes("${")),
        ),
    );
}

/** Each person of a per-person grant, and the OS users they can obtain at `at`; with the number of requests that took. */
export async function peopleOfGrant(
    picture: IamPicture,
    grant: IamPrincipal,
    stated: GrantOutput,
    at: string,
): Promise<{ people: PersonRunAs[]; evaluations: number }> {
    const osUsers = stated.personOsUsers ?? {};
    const names = Object.keys(osUsers);
    const literals = [...new Set(literalRunAsValues(grant))];
    let evaluations = 0;
    const obtains = async (principal: string, person: string, runAs: string | undefined, asProduced = false) => {
        const tagged = runAs === undefined ? {} : runAsTagged(runAs);
        for (const action of runAs === undefined ? ["sts:AssumeRole"] : ["sts:AssumeRole", "sts:TagSession"]) {
            const request: AccessRequest = {
                principal: asProduced ? principal : partnerControlled(principal),
                sessionName: person,
                action,
                resource: grant.arn,
                at,
                context: { ...chainedAs(person), "sts:ExternalId": stated.externalId, ...tagged },
            };
            evaluations++;
            if ((await decide(picture, request)).decision !== "Allowed") return false;
        }
        return true;
    };
    const people: PersonRunAs[] = [];
    for (const [index, person] of names.entries()) {
        const own = osUsers[person];
        const another = names.length > 1 ? osUsers[names[(index + 1) % names.length]] : undefined;
        const others = [...new Set([another, PRIVILEGED, ...literals].filter((v): v is string => v !== undefined && v !== own))];
        let ownObtained = false;
        let asProduced: boolean | undefined;
        const alsoObtains = new Set<string>();
        for (const principal of stated.trustedPrincipalArns) {
            if (await obtains(principal, person, own)) ownObtained = true;
            for (const other of others) if (await obtains(principal, person, other)) alsoObtains.add(other);
            if (await obtains(principal, person, undefined)) alsoObtains.add(WITHOUT_THE_TAG);
            if (findPrincipal(picture, principal) !== undefined) asProduced = (asProduced ?? false) || (await obtains(principal, person, own, true));
        }
        people.push({ person, osUser: ownObtained ? own : null, alsoObtains: [...alsoObtains], ...(asProduced === undefined ? {} : { asProduced }) });
    }
    return { people, evaluations };
}
