/**
 * Freezes a value and everything reachable from it through own enumerable properties, so that a
 * value shared between hosts cannot be changed through one of them (in strict mode a write
 * throws). Maps and Sets keep working: their entries are not properties.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const item of Object.values(value as object)) deepFreeze(item);
  return value;
}
