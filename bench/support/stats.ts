/** Latency recording, percentiles, medians and number formatting. */

/** Per-operation latencies of one cell, in milliseconds (as `performance.now()` gives them). */
export class Recorder {
  #buffer = new Float64Array(1 << 21)
  #count = 0
  #misses = 0

  reset(): void {
    this.#count = 0
    this.#misses = 0
  }

  add(millis: number): void {
    const count = this.#count
    if (count < this.#buffer.length) {
      this.#buffer[count] = millis
      this.#count = count + 1
    }
  }

  miss(): void {
    this.#misses++
  }

  get misses(): number {
    return this.#misses
  }

  get count(): number {
    return this.#count
  }

  /** p50 and p99 in microseconds. */
  percentiles(): { readonly p50: number; readonly p99: number } {
    if (this.#count === 0) return { p50: Number.NaN, p99: Number.NaN }
    const sorted = this.#buffer.slice(0, this.#count).sort()
    return { p50: quantile(sorted, 0.5) * 1000, p99: quantile(sorted, 0.99) * 1000 }
  }
}

const quantile = (sorted: Float64Array, q: number): number => {
  const position = (sorted.length - 1) * q
  const lower = Math.floor(position)
  const upper = Math.ceil(position)
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower)
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** 12,345 / 1,234 / 12.3 / 1.23 */
export const formatNumber = (value: number): string => {
  if (!Number.isFinite(value)) return "–"
  const magnitude = Math.abs(value)
  if (magnitude >= 1000) return Math.round(value).toLocaleString("en-US")
  if (magnitude >= 100) return value.toFixed(0)
  if (magnitude >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

export const formatRatio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "–")

export const formatPercent = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(0)}%` : "–")
