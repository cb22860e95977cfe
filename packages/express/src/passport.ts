export {
  createPassportStrategy,
  type KeywardStrategy,
  type KeywardStrategyOptions,
  type ResolvedUser,
  type UserResolver,
} from './passport-strategy.js';
