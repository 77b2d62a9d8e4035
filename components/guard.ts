// How a component applies the rules in rules.ts to its own arguments, so that it is safe
// however it is called: from this project's stacks, from another TypeScript project, or
// from another language through the component package.

import * as pulumi from "@pulumi/pulumi";
import { POLICY_ARN } from "./rules";

/** What is wrong with a value, or undefined when it is accepted (a `Rule`'s `problem`, or a check of its own). */
export type Problem<T> = (value: T) => string | undefined;

function refuse(component: pulumi.Resource, argName: string, problem: string): never {
    // hideStack: the message names the component (by URN) and the argument; a stack trace adds nothing.
    throw new pulumi.ResourceError(`${argName}: ${problem}`, component, true);
}

/** Checks a plain argument now: a refused value fails the constructor before any child resource is registered. */
export function requireValid<T>(component: pulumi.Resource, argName: string, value: T, problem: Problem<T>): T {
    const found = problem(value);
    if (found !== undefined) refuse(component, argName, found);
    return value;
}

/** Checks each element of an optional plain list, naming the element (`users[1].name`). */
export function requireEach<T>(component: pulumi.Resource, argName: (index: number) => string, values: readonly T[] | undefined, problem: Problem<T>): void {
    values?.forEach((value, index) => requireValid(component, argName(index), value, problem));
}

/** Checks the optional `permissionsBoundary` argument (a managed policy ARN) the way every component does. */
export function optionalBoundary(component: pulumi.Resource, value: pulumi.Input<string> | undefined): pulumi.Input<string> | undefined {
    return value === undefined ? undefined : checkedInput(component, "permissionsBoundary", value, POLICY_ARN.problem);
}

/**
 * Checks an argument that may be an Output. A plain value is checked now; an Output is
 * checked when it resolves. Use the returned value in place of the argument: every resource
 * fed from it then waits for the check, so none is ever created with a refused value.
 */
export function checkedInput<T>(component: pulumi.Resource, argName: string, value: pulumi.Input<T>, problem: Problem<T>): pulumi.Input<T> {
    if (!pulumi.Output.isInstance(value) && !(value instanceof Promise)) return requireValid(component, argName, value as T, problem);
    return pulumi.output(value).apply((resolved) => requireValid(component, argName, resolved as T, problem)) as pulumi.Output<T>;
}
