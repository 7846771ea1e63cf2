/**
 * Entry point of a lab host's relay process (see net-relay.ts); the lab's boot script starts it.
 */
import { runRelay } from './net-relay.js';

runRelay(process.argv.slice(2)).then(
  (usage) => {
    if (usage !== undefined) {
      process.stderr.write(`${usage}\n`);
      process.exit(2);
    }
  },
  (error: unknown) => {
    process.stderr.write(`sshfix lab relay: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
