/**
 * `read` over every item, at most `atOnce` at a time, started in the items' order; the results in the items' order.
 * Pure promise plumbing (no clock, no I/O): `campaign plan` reads a fleet's places with it, and so does a campaign's
 * preflight, inside the workflow.
 */
export async function atMostAtOnce<T, R>(items: readonly T[], atOnce: number, read: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const n = next++;
      results[n] = await read(items[n]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(atOnce, items.length)) }, lane));
  return results;
}
