/**
 * A tracer that records every span it makes, for asserting names, kinds, attributes, parents and exits.
 */
import { Cause, Effect, Exit, Option, Tracer } from "effect"
import { inspect } from "node:util"
import { type SpanRecording, spanRecording } from "./spanRecording.js"

export interface RecordedSpan extends Tracer.Span {
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }>
}

export type Recording = SpanRecording<RecordedSpan, Tracer.Tracer>

let nextId = 0

export const makeRecording = (): Recording => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span(name, parent, context, links, startTime, kind) {
      const id = (++nextId).toString(16).padStart(16, "0")
      const span: RecordedSpan = {
        _tag: "Span",
        name,
        spanId: id,
        traceId: Option.match(parent, { onNone: () => id.padStart(32, "0"), onSome: (p) => p.traceId }),
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes: new Map(),
        events: [],
        links: [...links],
        sampled: true,
        kind,
        end(endTime, exit) {
          Object.assign(this, { status: { _tag: "Ended", startTime, endTime, exit } })
        },
        attribute(key, value) {
          this.attributes.set(key, value)
        },
        event(name, _startTime, attributes) {
          this.events.push({ name, attributes })
        },
        addLinks() {}
      }
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  return spanRecording(tracer, spans, (span) => {
    const exit = span.status._tag === "Ended" ? span.status.exit : undefined
    return exit && Exit.isFailure(exit) ? `${Cause.pretty(exit.cause)}\n${inspect(exit.cause, { depth: 8 })}` : ""
  })
}

/** Runs `effect` with the recording's tracer. */
export const traced = (recording: Recording) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.withTracer(effect, recording.tracer)
