import type { Request } from 'express';
import { ValidationError } from '../errors.ts';

/** Reads an optional non-negative integer query parameter within bounds. */
export function integerParam(req: Request, name: string, bounds: { min: number; max: number }): number | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[0-9]{1,15}$/.test(raw)) {
    throw new ValidationError(`Query parameter "${name}" must be an integer.`, [{ path: name, message: 'must be an integer' }]);
  }
  const value = Number(raw);
  if (value < bounds.min || value > bounds.max) {
    throw new ValidationError(`Query parameter "${name}" is out of range.`, [
      { path: name, message: `must be from ${bounds.min} to ${bounds.max}` },
    ]);
  }
  return value;
}

export function stringParam(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') {
    throw new ValidationError(`Query parameter "${name}" must be given once.`, [{ path: name, message: 'must be a single value' }]);
  }
  return raw;
}
