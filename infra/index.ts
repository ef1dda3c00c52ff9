export { StowageService } from './constructs/stowage-service.js';
export type { StowageServiceProps } from './constructs/stowage-service-props.js';
