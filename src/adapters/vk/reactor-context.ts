// What the VK reactor's steps share (deliveries.ts, notices.ts): the VK API and its uploads, the
// Telegram topic for notices, the texts and the retry schedule, built once by reactor.ts.
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { API } from 'vk-io';
import type { DeliveryOperation } from '../../domain/events.ts';
import type { Texts } from '../../texts/texts.ts';
import type { CsatOptions } from '../csat.ts';
import type { Turn } from '../reactor-kernel.ts';
import type { VkUploads } from './uploads.ts';

export interface VkRetryOptions {
  /** First wait after a transient failure; doubled each time. Default 1000 ms. */
  readonly baseMs?: number;
  /** Longest wait. Default 5 minutes. */
  readonly maxMs?: number;
  /** Attempts before a transient failure is given up as permanent (and reported). Default 20 (about an hour). */
  readonly maxAttempts?: number;
}

export interface VkRetryInfo {
  readonly operation: DeliveryOperation;
  /** VK's error code, when VK answered with one. */
  readonly code?: number;
  readonly waitMs: number;
  readonly attempt: number;
}

export interface VkReactorContext {
  readonly api: API;
  readonly uploads: VkUploads;
  /** The Telegram Bot API (behind the group's limiter), for notices in the conversation's topic. */
  readonly telegram: Api;
  readonly supportChatId: string;
  readonly logger: Logger;
  /** What the bot writes itself: to a client in their language, into the topic in LOCALE's. */
  readonly texts: Texts;
  readonly retry: Required<VkRetryOptions>;
  /** Told of each failed attempt that will be tried again, before the wait (metrics). */
  readonly onRetry?: (info: VkRetryInfo) => void;
  /** How long after an answer was recorded the answers its manager wrote before it are waited for. */
  readonly orderWaitMs: number;
  /** Satisfaction (CSAT): whether a VK client is asked to rate after a closing. */
  readonly csat: CsatOptions;
}

/** The client's VK peer: a VK conversation's client id is the user's id. */
export const peerOf = (turn: Turn): number => Number(turn.state.clientId);
