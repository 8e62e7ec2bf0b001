/**
 * Engine versions as RDS writes them ("15.8", "15.10", "9.6.24") and the one rule for reading them in AWS's
 * answers: a version is named only as a whole. "15.1" is not "15.10" and not "15.12": a rule that looked for
 * the text "15.1" inside "Upgrade to PostgreSQL 15.12" would take one upgrade for another. The workflows, the
 * plan and the activities all decide through these functions (the pending upgrade to a version:
 * ./pending-maintenance.ts pendingUpgradeTo). Pure.
 */

/** Every whole version a text names ("Upgrade to PostgreSQL 15.12 (R1)" → ["15.12"]). */
export function versionsNamedIn(text: string | undefined): string[] {
  if (!text) return [];
  // A version is digits separated by dots, not glued to more digits or dots on either side (a sentence's
  // final dot is not part of it: "… to 15.8." names 15.8).
  return [...text.matchAll(/(?<![\d.])\d+(?:\.\d+)+(?![\d])/g)].map((m) => m[0]);
}

/** Whether `text` names exactly `version` (a whole version, never a prefix of a longer one). */
export function namesVersion(text: string | undefined, version: string): boolean {
  return versionsNamedIn(text).includes(version);
}

/** Numeric comparison of dotted versions: negative when a < b ("15.8" < "15.10"), 0 when equal. */
export function compareEngineVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = Number(pa[i] ?? '0');
    const y = Number(pb[i] ?? '0');
    if (Number.isNaN(x) || Number.isNaN(y)) {
      const c = (pa[i] ?? '').localeCompare(pb[i] ?? '');
      if (c !== 0) return c;
    } else if (x !== y) return x - y;
  }
  return 0;
}

/** The major a version belongs to ("15.8" → "15"; "9.6.24" → "9.6", as PostgreSQL before 10 numbered them). */
export function majorOf(version: string): string {
  const parts = version.split('.');
  return Number(parts[0]) < 10 && parts.length > 2 ? `${parts[0]}.${parts[1]}` : (parts[0] ?? version);
}

/** An instance at a newer version than the target: an upgrade to the target will never come to it. */
export function isPastTarget(engineVersion: string, target: string): boolean {
  return compareEngineVersions(engineVersion, target) > 0;
}
