/**
 * A run's input: the spec people write (a campaign or a restore), read, checked field by field and resolved,
 * once, at the client: the workflow's input is the resolved
 * spec with every default written out, so its history records what the run was asked to do and a change
 * of default never reaches a run already started. (`file.ts`, which reads files, is imported directly by
 * the CLI: this index stays free of I/O, since the workflows import it for inputs of older runs.)
 */
export { SpecError } from './errors';
export * from './defaults';
export { isAwsRegion, isRdsInstanceIdentifier, parseIsoInstant } from './fields';
export { resolveCampaignSpec, validateCampaignSpec } from './campaign';
export { resolveRestoreSpec, validateRestoreSpec } from './restore';
