// The conversation aggregate (one client on one channel): state, commands and decide/evolve.
// Split over small modules; import from here.
export * from './conversation-commands.ts';
export { decide, messagesNeeded } from './conversation-decide.ts';
export * from './conversation-state.ts';
