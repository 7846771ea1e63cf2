/** Every object key in a JSON value, with its path, to hold reports to one spelling (snake_case). */
export function jsonKeys(value: unknown, path = '$'): { path: string; key: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => jsonKeys(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [{ path, key }, ...jsonKeys(child, `${path}.${key}`)]);
}

/** Keys that are not snake_case (lower-case words joined by `_`), as `path.key`. */
export function nonSnakeKeys(value: unknown): string[] {
  return jsonKeys(value)
    .filter(({ key }) => !/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(key))
    .map(({ path, key }) => `${path}.${key}`);
}
