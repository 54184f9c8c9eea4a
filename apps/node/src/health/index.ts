export { type CrashHandlerOptions, handleCrashes, RejectionBudget } from './crash';
export {
  type HealthBody,
  type HealthOptions,
  type HealthServer,
  healthBody,
  type LinkStatusLike,
  startHealthServer,
} from './server';
