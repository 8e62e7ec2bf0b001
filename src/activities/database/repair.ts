/**
 * The repair half of the runbook's extract ("use pg_dump to extract the data you need from the restored database
 * to restore to the original database"), made reviewable: compare, a human approves the summary, write.
 *
 * The two halves live apart, each with its own reasons: repair-compare.ts (what differs, into a file to approve),
 * repair-write.ts (the approved file, written once, in one transaction) and, between them, repair-tables.ts (what
 * both must see alike: value rendering, a table's catalog shape, the ledger, failures). This file only joins them
 * into the activities the worker registers.
 */
import type { ExtractDeps } from './dump';
import { createCompareRows } from './repair-compare';
import { createWriteRows } from './repair-write';

export { BATCH_ROWS, LEDGER_SCHEMA, LEDGER_TABLE } from './repair-tables';

export function createRepairActivities(deps: ExtractDeps) {
  return { compareRows: createCompareRows(deps), writeRows: createWriteRows(deps) };
}

export type RepairActivities = ReturnType<typeof createRepairActivities>;
