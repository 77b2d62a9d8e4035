// The moments at which the review tries a session, the same for both sides of a diff: now,
// each instant the policies name, far in the future, and just after each named instant with
// credentials issued just before it. Kept apart from the partners' enumeration, which uses them,
// so that the universe that lists them imports nothing that imports it.

import { utcTimestamp } from "../../components/rules";

/** Something a partner may or may not reach, by a stable key and in words. */
export interface Reached {
    key: string;
    label: string;
}

const second = 1000;

/** A moment to try a session at: when, and when its credentials were issued. */
export interface SessionMoment extends Reached {
    at: string;
    tokenIssuedAt: string;
    /** Credentials issued at that moment (a fresh assume), or earlier. */
    fresh: boolean;
}

/**
 * The moments a session is tried at, the same for both sides: now, each instant the
 * universe's policies name that is later (with credentials issued then), far in the
 * future, and just after each named instant with credentials issued just before it (what
 * an expiry or a revocation must refuse).
 */
export function sessionMoments(now: string, instants: string[], farFuture: string): SessionMoment[] {
    const moments: SessionMoment[] = [];
    for (const at of [...new Set([now, ...instants.filter((i) => i > now), farFuture])].sort())
        moments.push({ key: `fresh@${at}`, label: at === now ? "now" : `at ${at}`, at, tokenIssuedAt: at, fresh: true });
    for (const instant of instants) {
        const at = utcTimestamp(Math.max(Date.parse(instant), Date.parse(now)) + second);
        const issued = utcTimestamp(Date.parse(instant) - second);
        moments.push({ key: `old@${instant}`, label: `at ${at} with credentials issued at ${issued}`, at, tokenIssuedAt: issued, fresh: false });
    }
    return moments;
}
