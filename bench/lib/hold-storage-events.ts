import type { ValidationService } from '../../shared/services/validation-service.js';

/**
 * Keeps the local stack's storage-event consumer away from chosen object keys, so the bench
 * runs the first `validateArrival` of those files itself (timed, with nothing racing it). Every
 * other key goes on to the real `onObjectCreated`. The stack is this run's own, so changing its
 * consumer here touches nothing outside the bench.
 */
export function holdStorageEvents(validation: ValidationService) {
  const held = new Set<string>();
  const onObjectCreated = validation.onObjectCreated.bind(validation);
  validation.onObjectCreated = async (object) => (held.has(object.key) ? null : onObjectCreated(object));
  return {
    hold(objectKey: string) {
      held.add(objectKey);
    },
    /** Puts the real consumer back. */
    restore() {
      held.clear();
      validation.onObjectCreated = onObjectCreated;
    },
  };
}
