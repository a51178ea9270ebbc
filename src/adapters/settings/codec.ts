// What comes out of a settings stream is checked before it is folded, as a conversation's events
// are (src/adapters/event-codec.ts): a malformed event fails naming its field.
import { z } from 'zod';
import type { RecordedEvent } from '../../domain/event-log.ts';
import type { HoursEvent } from '../../domain/settings/hours.ts';
import type { TemplateEvent } from '../../domain/settings/templates.ts';
import type { TextsEvent } from '../../domain/settings/texts.ts';
import type { DecodeSettingsEvent, SettingsEvent } from '../../domain/settings.ts';
import { EventDecodeError } from '../event-codec.ts';

type DataSchemas<E extends SettingsEvent> = {
  readonly [T in E['type']]: z.ZodType<Extract<E, { type: T }>['data']>;
};

/**
 * A decoder from one schema per event type (the annotation makes the compiler hold each schema to its
 * event's type). A type not listed is a newer version's: undefined, skipped by the fold.
 */
export const settingsDecoder =
  <E extends SettingsEvent>(schemas: DataSchemas<E>): DecodeSettingsEvent<E> =>
  (recorded: RecordedEvent): E | undefined => {
    if (!Object.hasOwn(schemas, recorded.type)) return undefined;
    const schema = schemas[recorded.type as E['type']] as z.ZodType<unknown>;
    const parsed = schema.safeParse(recorded.data);
    if (parsed.success) return { type: recorded.type, data: parsed.data } as E;
    const issue = parsed.error.issues[0];
    const field = ['data', ...(issue?.path ?? []).map(String)].join('.');
    throw new EventDecodeError(
      recorded.type,
      field,
      `invalid ${recorded.type} event in ${recorded.stream}: ${field}: ${issue?.message ?? 'invalid'}`,
    );
  };

export const decodeTextsEvent = settingsDecoder<TextsEvent>({
  TextOverrideSet: z.object({ locale: z.string(), key: z.string(), text: z.string() }),
  TextOverrideRemoved: z.object({ locale: z.string(), key: z.string() }),
});

const intervals = z.array(z.string());

export const decodeHoursEvent = settingsDecoder<HoursEvent>({
  WorkingHoursSet: z.object({
    hours: z.object({
      timeZone: z.string(),
      weekly: z.object({
        mon: intervals.optional(),
        tue: intervals.optional(),
        wed: intervals.optional(),
        thu: intervals.optional(),
        fri: intervals.optional(),
        sat: intervals.optional(),
        sun: intervals.optional(),
      }),
      exceptions: z.array(z.object({ date: z.string(), hours: intervals, note: z.string().optional() })),
    }),
  }),
  WorkingHoursCleared: z.object({}),
});

const version = z.number().int().positive();

export const decodeTemplatesEvent = settingsDecoder<TemplateEvent>({
  TemplateTextSet: z.object({ name: z.string(), locale: z.string(), text: z.string(), version }),
  TemplateTextRemoved: z.object({ name: z.string(), locale: z.string(), version }),
  TemplateRemoved: z.object({ name: z.string(), version }),
});
