/** RDS instance identifiers: the rule every call that names a new instance checks (stored lower-case). */
import { SimError } from '../core/errors';

const IDENTIFIER_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function validateIdentifier(id: string, param = 'DBInstanceIdentifier'): string {
  const lower = id.toLowerCase();
  if (lower.length > 63 || !IDENTIFIER_RE.test(lower)) {
    throw new SimError(
      'InvalidParameterValue',
      `The parameter ${param} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.`,
    );
  }
  return lower;
}
