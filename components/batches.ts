// Registering many resources a batch at a time: between batches the program yields to the
// event loop, so the Pulumi SDK's bookkeeping for what was already registered (several
// promises per output property) settles before the next batch adds its own, instead of
// all of it piling up at once. Nothing waits for a deployment: the engine still gets every
// registration straight away.

/** How many resources of one kind are registered before yielding. */
export const REGISTRATION_BATCH = 25;

/** Resolves once the event loop has run what is pending. */
export function yieldToEventLoop(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
}
