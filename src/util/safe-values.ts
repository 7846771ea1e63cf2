/** Checks for values read back from a saved plan before they go anywhere near a script. */

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An absolute path with no control characters: nothing in it can escape its place in a script. */
export const isSafePath = (v: unknown): v is string => typeof v === 'string' && v.startsWith('/') && !/[\0-\x1f\x7f]/.test(v);
