/**
 * A tracer that records every span it makes, for asserting names, kinds, attributes, parents and exits: the Effect 4
 * line's twin of `../../../test/support/recordingTracer.ts`, with the same members (`#line` exports this line's).
 */
import { Cause, Effect, Exit, Tracer } from "effect"
import { inspect } from "node:util"

export type RecordedSpan = Tracer.NativeSpan

export interface Recording {
  readonly tracer: Tracer.Tracer
  readonly spans: Array<RecordedSpan>
  /** Spans of memcached operations (`db.system.name: "memcached"`). */
  readonly memcachedSpans: () => Array<RecordedSpan>
  /** Everything a span holds that an exporter could send, as text: names, attributes, events and the exit's cause. */
  readonly dump: () => string
  readonly clear: () => void
}

export const makeRecording = (): Recording => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  const describe = (span: RecordedSpan) => {
    const exit = span.status._tag === "Ended" ? span.status.exit : undefined
    const cause = exit && Exit.isFailure(exit)
      ? `${Cause.pretty(exit.cause)}\n${inspect(exit.cause, { depth: 8 })}`
      : ""
    return `${span.name} ${inspect(span.attributes, { depth: 8 })} ${inspect(span.events, { depth: 8 })} ${cause}`
  }
  return {
    tracer,
    spans,
    memcachedSpans: () => spans.filter((span) => span.attributes.get("db.system.name") === "memcached"),
    dump: () => spans.map(describe).join("\n"),
    clear: () => {
      spans.length = 0
    }
  }
}

/** Runs `effect` with the recording's tracer. */
export const traced = (recording: Recording) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Tracer.Tracer, recording.tracer)
