// The one place stack config is read. It turns the project's config keys into typed,
// validated settings for either side, and throws one ConfigError listing every problem
// before the program registers any resource. Each problem names the key as a user types
// it for `pulumi config set --path` (e.g. `partners[1].accountId`), what was wrong, and
// what is accepted.
//
//   read.ts         the raw config from the Pulumi runtime, and `side`
//   schema.ts       each key's shape, checked by the rules in components/rules
//   cross-field.ts  rules between keys
//   load.ts         read -> schema -> cross-field -> defaults
//   settings.ts     the typed settings the programs receive

export { ConfigError, type ConfigIssue } from "./errors";
export { loadTheirSettings, loadYoursSettings } from "./load";
export { readSide } from "./read";
export type { Side } from "./schema";
export type * from "./settings";
