// The kinds of settings this version knows, each with its definition (src/domain/settings/) and the
// codec its stream is read with. The audit (GET /api/admin/settings/{kind}/history, `topicdesk
// history settings:<kind>`) lists a kind's changes through this table; a kind is one entry here.

import { hoursSettings } from '../../domain/settings/hours.ts';
import { templatesSettings } from '../../domain/settings/templates.ts';
import { textsSettings } from '../../domain/settings/texts.ts';
import type {
  DecodeSettingsEvent,
  SettingsDefinition,
  SettingsEvent,
  SettingsKind,
} from '../../domain/settings.ts';
import { locales, textCatalogue } from '../../texts/catalogue.ts';
import { decodeHoursEvent, decodeTemplatesEvent, decodeTextsEvent } from './codec.ts';

export interface SettingsKindEntry<C, E extends SettingsEvent, S> {
  readonly definition: SettingsDefinition<C, E, S>;
  readonly decode: DecodeSettingsEvent<E>;
}

const entry = <C, E extends SettingsEvent, S>(
  definition: SettingsDefinition<C, E, S>,
  decode: DecodeSettingsEvent<E>,
): SettingsKindEntry<C, E, S> => ({ definition, decode });

export const textsKind = entry(textsSettings(textCatalogue), decodeTextsEvent);
export const hoursKind = entry(hoursSettings, decodeHoursEvent);
export const templatesKind = entry(templatesSettings(locales), decodeTemplatesEvent);

/** Every kind this version can read, by name. */
// biome-ignore lint/suspicious/noExplicitAny: a table of kinds whose commands, events and states differ
export const settingsKindEntries: Partial<Record<SettingsKind, SettingsKindEntry<any, any, any>>> = {
  texts: textsKind,
  hours: hoursKind,
  templates: templatesKind,
};
