// A message's content sent, or edited, through the Bot API: a file with its caption, or text.
import type { Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { MessageContent } from '../../domain/events.ts';
import { isNotModified } from './errors.ts';
import { describeForTopic } from './readable-payloads.ts';

export const sendContent = async (
  api: Api,
  chatId: string,
  content: MessageContent,
  common: Record<string, unknown>,
): Promise<{ message_id: number }> => {
  const file = content.attachments.find((a) => a.fileRef);
  const caption = content.text
    ? {
        caption: content.text,
        ...(content.entities ? { caption_entities: content.entities as never } : {}),
      }
    : {};
  if (file?.fileRef) {
    switch (file.kind) {
      case 'photo':
        return api.sendPhoto(chatId, file.fileRef, { ...common, ...caption });
      case 'video':
        return api.sendVideo(chatId, file.fileRef, { ...common, ...caption });
      case 'audio':
        return api.sendAudio(chatId, file.fileRef, { ...common, ...caption });
      case 'voice':
        return api.sendVoice(chatId, file.fileRef, { ...common, ...caption });
      case 'animation':
        return api.sendAnimation(chatId, file.fileRef, { ...common, ...caption });
      case 'sticker':
        return api.sendSticker(chatId, file.fileRef, common);
      default:
        return api.sendDocument(chatId, file.fileRef, { ...common, ...caption });
    }
  }
  const text = [content.text, describeForTopic(content)].filter(Boolean).join('\n') || '(empty message)';
  return api.sendMessage(chatId, text, {
    ...common,
    ...(content.entities && text === content.text ? { entities: content.entities as never } : {}),
  });
};

/**
 * Edits a copy's text, or its caption when it carries a file; an edit that changes nothing is done.
 * `replyMarkup` is the keyboard the message keeps (an edit without one removes the buttons it had).
 */
export const editContent = async (
  api: Api,
  chatId: string,
  messageId: number,
  content: MessageContent,
  replyMarkup?: InlineKeyboardMarkup,
) => {
  const markup = replyMarkup ? { reply_markup: replyMarkup } : {};
  try {
    if (content.attachments.some((a) => a.fileRef)) {
      await api.editMessageCaption(chatId, messageId, {
        caption: content.text,
        ...(content.entities ? { caption_entities: content.entities as never } : {}),
        ...markup,
      });
    } else {
      await api.editMessageText(chatId, messageId, content.text || '(empty message)', {
        ...(content.entities ? { entities: content.entities as never } : {}),
        ...markup,
      });
    }
  } catch (error) {
    if (!isNotModified(error)) throw error;
  }
};
