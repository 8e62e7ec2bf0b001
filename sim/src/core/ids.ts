/** Generated identifiers and the keys the state's maps use. */
import { randomBytes } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomString(length: number, alphabet = UPPER_ALNUM): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[(bytes[i] as number) % alphabet.length];
  return out;
}

export const randomLower = (length: number): string => randomString(length, LOWER_ALNUM);
export const randomHex = (length: number): string => randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);

/** Keys of the state's maps: `${account}/${region}/${id}` for regional resources (RDS, EC2), `${account}/${id}` for global ones (Route 53). */
export const regionalKey = (account: string, region: string, id: string): string => `${account}/${region}/${id}`;
export const globalKey = (account: string, id: string): string => `${account}/${id}`;

/** A stable per-account-and-region string, like the random part of real RDS endpoints. */
export function endpointSuffix(account: string, region: string): string {
  let h = 2166136261;
  for (const c of `${account}/${region}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  let out = '';
  for (let i = 0; i < 12; i++) {
    out += LOWER_ALNUM[h % 36];
    h = Math.imul(h ^ (i + 7), 2654435761) >>> 0;
  }
  return out;
}
