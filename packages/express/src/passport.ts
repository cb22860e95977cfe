export {
  createPassportStrategy,
  type KeywardStrategy,
  type KeywardStrategyOptions,
} from './passport-strategy.js';
