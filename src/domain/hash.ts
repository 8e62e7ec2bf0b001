/**
 * 32-bit FNV-1a of a text: a short, stable number for a name (the Blue/Green deployment name's suffix) or a seed
 * (the soak's random streams). Pure and deterministic: a workflow and the CLI compute the same.
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
