/**
 * Settings an instance is created or restored with that the simulator keeps only to show them again
 * (DescribeDBInstances) and to refuse what RDS refuses: the CA certificate, the CloudWatch log exports, the network
 * type, the engine lifecycle support and the option group. Their values and defaults are CreateDBInstance's and
 * RestoreDBInstanceToPointInTime's (API reference):
 * - CACertificateIdentifier: a certificate RDS has (DescribeCertificates), CertificateNotFound otherwise; new
 *   instances get the default, rds-ca-rsa2048-g1;
 * - EnableCloudwatchLogsExports: the engine's ExportableLogTypes (DescribeDBEngineVersions; RDS for PostgreSQL
 *   exports `postgresql`, `upgrade` and `iam-db-auth-error`);
 * - NetworkType: IPV4 or DUAL (the simulator's subnet groups are not told apart by IP protocol);
 * - EngineLifecycleSupport: open-source-rds-extended-support (the default: "enrolls your DB instance into Amazon
 *   RDS Extended Support") or open-source-rds-extended-support-disabled;
 * - DedicatedLogVolume: only with Provisioned IOPS storage (io1, io2);
 * - OptionGroupName: the simulator has only the engine's default option groups (`default:<engine>-<major>`), and
 *   refuses any other name as RDS refuses an option group that does not exist (OptionGroupNotFoundFault).
 */
import { SimError } from '../core/errors';
import type { DbInstance } from './state';

export const DEFAULT_CA_CERTIFICATE = 'rds-ca-rsa2048-g1';
export const CA_CERTIFICATES = ['rds-ca-rsa2048-g1', 'rds-ca-rsa4096-g1', 'rds-ca-ecc384-g1'] as const;
export const POSTGRES_LOG_TYPES = ['postgresql', 'upgrade', 'iam-db-auth-error'] as const;
export const NETWORK_TYPES = ['IPV4', 'DUAL'] as const;
export const EXTENDED_SUPPORT = 'open-source-rds-extended-support';
export const ENGINE_LIFECYCLE_SUPPORTS = [EXTENDED_SUPPORT, 'open-source-rds-extended-support-disabled'] as const;

export interface InstanceSettingsInput {
  /** DedicatedLogVolume: "DLVs are supported for PIOPS storage (io1 and io2 Block Express)" (User Guide). */
  dedicatedLogVolume?: boolean;
  storageType?: string;
  caCertificateIdentifier?: string;
  enableCloudwatchLogsExports?: string[];
  networkType?: string;
  engineLifecycleSupport?: string;
  optionGroupName?: string;
}

export function defaultOptionGroupName(engine: string, major: string): string {
  return `default:${engine}-${major}`;
}

/** Refuses what RDS refuses of these settings for an instance of `engine` at major version `major`. */
export function checkInstanceSettings(input: InstanceSettingsInput, engine: string, major: string): void {
  const ca = input.caCertificateIdentifier;
  if (ca !== undefined && !(CA_CERTIFICATES as readonly string[]).includes(ca)) {
    throw new SimError('CertificateNotFound', `CACertificateIdentifier ${ca} not found.`, 404);
  }
  const logs = input.enableCloudwatchLogsExports ?? [];
  const exportable: readonly string[] = engine === 'postgres' ? POSTGRES_LOG_TYPES : [];
  const unknown = logs.filter((l) => !exportable.includes(l));
  if (unknown.length) {
    throw new SimError('InvalidParameterCombination', `You cannot use the log types '${unknown.join("', '")}' with engine ${engine}. Exportable log types: ${exportable.join(', ') || 'none'}.`);
  }
  if (input.networkType !== undefined && !(NETWORK_TYPES as readonly string[]).includes(input.networkType)) {
    throw new SimError('InvalidParameterValue', `Invalid value ${input.networkType} for NetworkType. Valid values: ${NETWORK_TYPES.join(', ')}.`);
  }
  const lifecycle = input.engineLifecycleSupport;
  if (lifecycle !== undefined && !(ENGINE_LIFECYCLE_SUPPORTS as readonly string[]).includes(lifecycle)) {
    throw new SimError('InvalidParameterValue', `Invalid value ${lifecycle} for EngineLifecycleSupport. Valid values: ${ENGINE_LIFECYCLE_SUPPORTS.join(', ')}.`);
  }
  if (input.dedicatedLogVolume && !['io1', 'io2'].includes(input.storageType ?? '')) {
    throw new SimError('InvalidParameterCombination', `A dedicated log volume needs Provisioned IOPS storage (io1 or io2), not ${input.storageType ?? 'the default storage type'}.`);
  }
  const optionGroup = input.optionGroupName;
  if (optionGroup !== undefined && optionGroup !== defaultOptionGroupName(engine, major)) {
    throw new SimError('OptionGroupNotFoundFault', `Specified OptionGroupName: ${optionGroup} not found.`, 404);
  }
}

/** The settings a new instance is created with: those asked (refused as RDS refuses them), else the defaults. */
export function instanceSettings(
  input: InstanceSettingsInput,
  engine: string,
  major: string,
): Pick<DbInstance, 'optionGroupName' | 'caCertificateIdentifier' | 'enabledCloudwatchLogsExports' | 'networkType' | 'engineLifecycleSupport' | 'dedicatedLogVolume'> {
  checkInstanceSettings(input, engine, major);
  return {
    // Only the engine's default option group exists here (and the check refused any other).
    optionGroupName: defaultOptionGroupName(engine, major),
    caCertificateIdentifier: input.caCertificateIdentifier ?? DEFAULT_CA_CERTIFICATE,
    ...(input.enableCloudwatchLogsExports?.length ? { enabledCloudwatchLogsExports: [...new Set(input.enableCloudwatchLogsExports)] } : {}),
    networkType: input.networkType ?? 'IPV4',
    ...(input.engineLifecycleSupport !== undefined ? { engineLifecycleSupport: input.engineLifecycleSupport } : {}),
    ...(input.dedicatedLogVolume ? { dedicatedLogVolume: true } : {}),
  };
}
