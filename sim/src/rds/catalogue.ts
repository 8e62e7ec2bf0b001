/**
 * The engine-version catalogue behind DescribeDBEngineVersions, upgrade validation and pending
 * maintenance. Each major lists its minor versions and the one RDS upgrades to automatically
 * (`autoUpgradeTarget`, the "preferred" minor): an instance below it gets a `db-upgrade` pending action.
 */
export interface CatalogueMajor {
  engine: string;
  major: string;
  versions: string[];
  autoUpgradeTarget?: string;
  /**
   * Versions RDS no longer offers (DBEngineVersion.Status "deprecated"): instances may still run them, and
   * DescribeDBEngineVersions lists them only with IncludeAll ("The default is to list only available engine versions").
   */
  deprecated?: string[];
}

export interface CatalogueTarget {
  engine: string;
  engineVersion: string;
  isMajorVersionUpgrade: boolean;
  autoUpgrade: boolean;
}

export function defaultCatalogue(): CatalogueMajor[] {
  return [
    { engine: 'postgres', major: '14', versions: ['14.9', '14.10', '14.11', '14.12', '14.13', '14.15'], autoUpgradeTarget: '14.13' },
    { engine: 'postgres', major: '15', versions: ['15.4', '15.5', '15.6', '15.7', '15.8', '15.10'], autoUpgradeTarget: '15.8' },
    { engine: 'postgres', major: '16', versions: ['16.1', '16.2', '16.3', '16.4', '16.6'], autoUpgradeTarget: '16.4' },
  ];
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

export function majorOf(version: string): string {
  return version.split('.')[0] as string;
}

export class Catalogue {
  constructor(private readonly majors: CatalogueMajor[]) {
    for (const m of majors) {
      m.versions.sort(compareVersions);
      if (m.autoUpgradeTarget && !m.versions.includes(m.autoUpgradeTarget)) {
        throw new Error(`catalogue ${m.engine} ${m.major}: autoUpgradeTarget ${m.autoUpgradeTarget} is not one of its versions`);
      }
      for (const v of m.versions) {
        if (majorOf(v) !== m.major) throw new Error(`catalogue ${m.engine} ${m.major}: version ${v} belongs to another major`);
      }
      for (const v of m.deprecated ?? []) {
        if (!m.versions.includes(v)) throw new Error(`catalogue ${m.engine} ${m.major}: deprecated version ${v} is not one of its versions`);
      }
    }
  }

  engines(): string[] {
    return [...new Set(this.majors.map((m) => m.engine))];
  }

  majorsOf(engine: string): CatalogueMajor[] {
    return this.majors.filter((m) => m.engine === engine).sort((a, b) => compareVersions(a.major, b.major));
  }

  isDeprecated(engine: string, version: string): boolean {
    return this.majorsOf(engine).some((m) => m.deprecated?.includes(version));
  }

  has(engine: string, version: string): boolean {
    return this.majorsOf(engine).some((m) => m.versions.includes(version));
  }

  /** All versions of the engine, oldest first. */
  versions(engine: string): string[] {
    return this.majorsOf(engine).flatMap((m) => m.versions);
  }

  autoUpgradeTargetFor(engine: string, version: string): string | undefined {
    return this.majorsOf(engine).find((m) => m.major === majorOf(version))?.autoUpgradeTarget;
  }

  /** What CreateDBInstance uses without EngineVersion: the preferred minor of the newest major. */
  defaultVersion(engine: string): string | undefined {
    const majors = this.majorsOf(engine);
    const newest = majors[majors.length - 1];
    return newest ? (newest.autoUpgradeTarget ?? newest.versions[newest.versions.length - 1]) : undefined;
  }

  /** Newer minors of the same major, then every version of each newer major. */
  validUpgradeTargets(engine: string, version: string): CatalogueTarget[] {
    const major = majorOf(version);
    const out: CatalogueTarget[] = [];
    for (const m of this.majorsOf(engine)) {
      const cmpMajor = compareVersions(m.major, major);
      if (cmpMajor < 0) continue;
      for (const v of m.versions) {
        if (cmpMajor === 0 && compareVersions(v, version) <= 0) continue;
        out.push({ engine, engineVersion: v, isMajorVersionUpgrade: cmpMajor > 0, autoUpgrade: cmpMajor === 0 && v === m.autoUpgradeTarget });
      }
    }
    return out;
  }

  toJSON(): CatalogueMajor[] {
    return this.majors;
  }
}
