// Checks that what goes into the event log is plain JSON, before anything is
// written: JSON.stringify would silently drop functions and undefined, turn
// Dates into strings and NaN into null, and throw on BigInt or cycles.

import { ValidationError } from "./errors.js";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Throws a ValidationError unless `value` is a plain JSON object. */
export function checkPayload(value: unknown, what: string): asserts value is { [key: string]: Json } {
  if (!isPlainObject(value)) throw new ValidationError(`${what} must be a plain object, not ${describe(value)}`);
  checkJson(value, what, new Set());
}

function checkJson(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new ValidationError(`${path} is ${value}, which JSON cannot hold`);
      return;
    case "object":
      if (value === null) return;
      if (seen.has(value)) throw new ValidationError(`${path} refers back to itself; JSON cannot hold cycles`);
      seen.add(value);
      if (Array.isArray(value)) value.forEach((item, i) => checkJson(item, `${path}[${i}]`, seen));
      else if (isPlainObject(value)) for (const [key, item] of Object.entries(value)) checkJson(item, `${path}.${key}`, seen);
      else throw new ValidationError(`${path} is ${describe(value)}; convert it to plain JSON first`);
      seen.delete(value);
      return;
    default:
      throw new ValidationError(`${path} is ${describe(value)}, which JSON cannot hold`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `a ${value.constructor?.name ?? "non-plain object"}`;
  return `a ${typeof value}`;
}

/** Throws a ValidationError unless `value` is a whole number from `min`. */
export function checkVersion(value: unknown, what: string, min: number): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new ValidationError(`${what} must be a whole number from ${min}, not ${String(value)}`);
  }
}

/** Throws a ValidationError unless `value` looks like a UUID string. */
export function checkId(value: unknown, what = "id"): asserts value is string {
  if (typeof value !== "string" || !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(value)) {
    throw new ValidationError(`${what} must be a UUID string, not ${JSON.stringify(value) ?? String(value)}`);
  }
}
