/**
 * Which inventory file a command uses: `-i` when given, else `./inventory.yaml` when it exists,
 * else `$SSHFIX_INVENTORY`. Pure: the caller passes the environment and a file-exists test.
 */
export interface InventoryPathInput {
  /** The `-i` option. */
  option?: string;
  /** $SSHFIX_INVENTORY. */
  env?: string;
  exists: (path: string) => boolean;
}

/** The file to use and where its name came from; `none` when nothing was found. */
export type InventoryPathChoice =
  | { path: string; source: 'option' | 'cwd' | 'env' }
  | { path?: undefined; source: 'none' };

export const DEFAULT_INVENTORY_FILE = 'inventory.yaml';

export function chooseInventoryPath(input: InventoryPathInput): InventoryPathChoice {
  if (input.option !== undefined && input.option !== '') return { path: input.option, source: 'option' };
  if (input.exists(DEFAULT_INVENTORY_FILE)) return { path: DEFAULT_INVENTORY_FILE, source: 'cwd' };
  if (input.env !== undefined && input.env !== '') return { path: input.env, source: 'env' };
  return { source: 'none' };
}
