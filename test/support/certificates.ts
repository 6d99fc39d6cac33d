/**
 * The test run's certificates (`certificateFiles.ts`) as Effect 3 resources: removed when the scope closes.
 */
import { Context, Effect, Layer } from "effect"
import { type Certificates, createCertificates, removeCertificates } from "./certificateFiles.js"

export type { Certificates, KeyPair } from "./certificateFiles.js"

/** Makes the certificates in a temp dir, removed when the scope closes. */
export const makeCertificates = Effect.acquireRelease(
  Effect.promise(createCertificates),
  (certificates) => Effect.promise(() => removeCertificates(certificates))
)

/** The certificates as a test service, made once per layer. */
export class TestCertificates extends Context.Tag("test/TestCertificates")<TestCertificates, Certificates>() {
  static readonly layer: Layer.Layer<TestCertificates> = Layer.scoped(TestCertificates, makeCertificates)
}
