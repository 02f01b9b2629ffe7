/**
 * Job ids are 1..128 characters of `[A-Za-z0-9._:-]` (contract §3), except `.` and `..`:
 * as a path segment they would turn `/jobs/<id>/events` into another route.
 */
export const JOB_ID_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._:-]{1,128}$/;

export function isValidJobId(value: string): boolean {
  return JOB_ID_PATTERN.test(value);
}
