// The conversation aggregate (one client on one channel): state, commands and decide/evolve.
// Split over small modules; import from here.
export * from './conversation-commands.ts';
export * from './conversation-core.ts';
export { decide, messagesNeeded } from './conversation-decide.ts';
export * from './conversation-fold.ts';
export { channelKey, groupKey, MessageWindow, NotLoadedError, refKey } from './message-window.ts';
