/** Safe handling of JSON objects from the network: keys such as `__proto__` stay plain data. */

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A fresh object without a prototype: assigning `__proto__` on it defines an ordinary key. */
export function createRecord<T = unknown>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A shallow copy as an object without a prototype. */
export function copyRecord(source: JsonRecord): JsonRecord {
  const copy = createRecord();
  for (const [key, value] of Object.entries(source)) copy[key] = value;
  return copy;
}
