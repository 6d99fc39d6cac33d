/**
 * What both lines' recording tracers (`recordingTracer.ts` here and in `effect4/test/support/`) do with the spans
 * they keep; each makes its spans with its own Effect's `Tracer` and says how a failed span's cause reads. No
 * `effect` import, so both lines share it.
 */
import { inspect } from "node:util"

/** What a recorded span has that the recording reads. */
interface KeptSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
  readonly events: unknown
}

export interface SpanRecording<S, T> {
  readonly tracer: T
  readonly spans: Array<S>
  /** Spans of memcached operations (`db.system.name: "memcached"`). */
  readonly memcachedSpans: () => Array<S>
  /** Everything a span holds that an exporter could send, as text: names, attributes, events and the exit's cause. */
  readonly dump: () => string
  readonly clear: () => void
}

/** The recording of the spans `tracer` pushes to `spans`; `causeOf` is a failed span's cause as text, else "". */
export const spanRecording = <S extends KeptSpan, T>(
  tracer: T,
  spans: Array<S>,
  causeOf: (span: S) => string
): SpanRecording<S, T> => ({
  tracer,
  spans,
  memcachedSpans: () => spans.filter((span) => span.attributes.get("db.system.name") === "memcached"),
  dump: () =>
    spans.map((span) =>
      `${span.name} ${inspect(span.attributes, { depth: 8 })} ${inspect(span.events, { depth: 8 })} ${causeOf(span)}`
    ).join("\n"),
  clear: () => {
    spans.length = 0
  }
})
