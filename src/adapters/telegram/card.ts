// The contact card in the topic's language: its words come from the catalogue (`topic.card.*`), as
// operators set them.
import type { ConversationState } from '../../domain/conversation-state.ts';
import { fill } from '../../texts/catalogue.ts';
import type { Texts } from '../../texts/texts.ts';
import { type ContactCardLabels, contactCard, type FormattedText } from './translate.ts';

export const cardLabels = async (texts: Texts): Promise<ContactCardLabels> => {
  // Asked without variables, a text keeps its placeholders: filled per card below.
  const [channel, client, conversation, language] = await Promise.all([
    texts.topic('topic.card.channel'),
    texts.topic('topic.card.client'),
    texts.topic('topic.card.conversation'),
    texts.topic('topic.card.language'),
  ]);
  return {
    channel: (c, source) => fill(channel, { channel: c, source }),
    client,
    conversation,
    language: (l) => fill(language, { language: l }),
  };
};

/** The card of a started conversation, as it stands now (the client's latest language included). */
export const contactCardOf = async (
  texts: Texts,
  state: ConversationState,
  conversationId: string,
): Promise<FormattedText> =>
  contactCard(
    {
      channel: state.channel ?? 'telegram',
      source: state.source ?? '',
      clientId: state.clientId ?? '',
      profile: state.profile ?? {},
      conversationId,
      ...(state.language ? { language: state.language } : {}),
    },
    await cardLabels(texts),
  );
