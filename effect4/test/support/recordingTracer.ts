/**
 * A tracer that records every span it makes, for asserting names, kinds, attributes, parents and exits: the Effect 4
 * line's twin of `../../../test/support/recordingTracer.ts`, with the same members (`#line` exports this line's), what
 * the two do alike in `../../../test/support/spanRecording.ts`.
 */
import { Cause, Effect, Exit, Tracer } from "effect"
import { inspect } from "node:util"
import { type SpanRecording, spanRecording } from "../../../test/support/spanRecording.js"

export type RecordedSpan = Tracer.NativeSpan

export type Recording = SpanRecording<RecordedSpan, Tracer.Tracer>

export const makeRecording = (): Recording => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return spanRecording(tracer, spans, (span) => {
    const exit = span.status._tag === "Ended" ? span.status.exit : undefined
    return exit && Exit.isFailure(exit) ? `${Cause.pretty(exit.cause)}\n${inspect(exit.cause, { depth: 8 })}` : ""
  })
}

/** Runs `effect` with the recording's tracer. */
export const traced = (recording: Recording) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Tracer.Tracer, recording.tracer)
