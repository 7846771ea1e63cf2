import type { ServiceFacts } from './registry.js';
import type { BaseFacts } from './service.js';

/** A host's facts: what the engine reads of every host, and each requested service's own, by id. */
export interface HostFacts extends BaseFacts {
  services: ServiceFacts;
  /** The build id of each service whose facts came from its build (read here or cached by the run). */
  builds?: Readonly<Record<string, string>>;
}
