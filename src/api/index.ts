/**
 * The workflows' public contract: inputs (raw and resolved specs), status shapes, the update and query
 * definitions, and the search attributes. Imported by the workflows, the activities' callers, the client,
 * the CLI and the tests; it imports nothing of the product (the bottom layer, with src/domain).
 */
export * from './common';
export * from './campaign';
export * from './fleet-batch';
export * from './fleet-status';
export * from './blue-green';
export * from './restore';
export * from './database';
export * from './messages';
export * from './operator-actions';
export * from './activities';
export * from './search-attributes';
