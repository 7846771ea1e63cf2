import type { ServiceFacts } from './registry.js';
import type { BaseFacts } from './service.js';

/** A host's facts: what the engine reads of every host, and each requested service's own, by id. */
export interface HostFacts extends BaseFacts {
  services: ServiceFacts;
}
