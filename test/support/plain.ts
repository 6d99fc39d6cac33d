/**
 * The test harness for tests that use no Effect (the engine's): a scoped test resource (a memcached process, a
 * stand-in server) acquired as a promise, with a promise-returning release.
 */
import { Effect, Exit, Scope } from "effect"

/** Acquires `resource` in a scope of its own; `release` closes that scope. */
export const acquire = async <A>(
  resource: Effect.Effect<A, never, Scope.Scope>
): Promise<{ readonly value: A; readonly release: () => Promise<void> }> => {
  const scope = Effect.runSync(Scope.make())
  const value = await Effect.runPromise(Scope.extend(resource, scope))
  return { value, release: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
