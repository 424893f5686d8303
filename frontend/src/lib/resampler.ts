// Microphone audio to what a live session takes: 16 kHz mono PCM16 in frames of about 0.5 s.
// Pure code with no DOM, so the AudioWorklet (lib/pcmWorklet.ts) and the unit tests share it.

export const LIVE_RATE = 16_000;
/** 0.5 s at 16 kHz: 8,000 samples, 16,000 bytes. */
export const FRAME_SAMPLES = 8_000;

const ZERO_CROSSINGS = 8; // kernel half-width, in output samples
const TABLE_STEPS = 128; // kernel table resolution, per input sample

/**
 * A streaming band-limited resampler (windowed-sinc interpolation). Each output sample is a
 * Blackman-windowed sinc low-pass over the input around its position, cut off a little under
 * the lower Nyquist frequency, so nothing above 8 kHz folds back into speech when 44.1 or
 * 48 kHz becomes 16 kHz (dropping samples would alias it).
 */
export class Resampler {
  /** Input samples per output sample. */
  readonly step: number;
  private readonly half: number;
  private readonly table: Float32Array;
  private buf = new Float32Array(4096);
  private len = 0;
  private base = 0; // absolute input index of buf[0]
  private seen = 0; // input samples received
  private emitted = 0; // output samples produced

  constructor(
    readonly inRate: number,
    readonly outRate: number = LIVE_RATE,
  ) {
    if (!(inRate > 0 && outRate > 0)) throw new Error(`bad rates ${inRate} -> ${outRate}`);
    this.step = inRate / outRate;
    // Cut-off in cycles per input sample: 90% of the lower Nyquist frequency.
    const fc = 0.5 * Math.min(1, outRate / inRate) * 0.9;
    this.half = Math.ceil(ZERO_CROSSINGS * Math.max(1, this.step));
    const size = this.half * TABLE_STEPS;
    this.table = new Float32Array(size + 2);
    for (let i = 0; i <= size + 1; i++) {
      const d = i / TABLE_STEPS; // distance from the output position, input samples
      const x = Math.min(1, d / this.half);
      const window = 0.42 + 0.5 * Math.cos(Math.PI * x) + 0.08 * Math.cos(2 * Math.PI * x);
      const arg = 2 * fc * d;
      this.table[i] = (arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg)) * window;
    }
  }

  private kernel(distance: number): number {
    const pos = Math.abs(distance) * TABLE_STEPS;
    const i = Math.floor(pos);
    if (i >= this.half * TABLE_STEPS) return 0;
    const frac = pos - i;
    return this.table[i] * (1 - frac) + this.table[i + 1] * frac;
  }

  private append(input: Float32Array): void {
    if (this.len + input.length > this.buf.length) {
      const grown = new Float32Array(Math.max(this.buf.length * 2, this.len + input.length));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(input, this.len);
    this.len += input.length;
    this.seen += input.length;
  }

  /** The output sample at absolute input position `t`, from the input buffered so far. */
  private sample(t: number): number {
    const first = Math.max(this.base, Math.ceil(t - this.half));
    const last = Math.min(this.seen - 1, Math.floor(t + this.half));
    let sum = 0;
    let weight = 0;
    for (let k = first; k <= last; k++) {
      const w = this.kernel(t - k);
      sum += this.buf[k - this.base] * w;
      weight += w;
    }
    // Normalising by the weights keeps DC gain exactly 1 (and the edges of the stream unbiased).
    return weight > 0 ? sum / weight : 0;
  }

  private drain(untilExclusive: (t: number) => boolean): Float32Array {
    const out: number[] = [];
    for (;;) {
      const t = this.emitted * this.step;
      if (!untilExclusive(t)) break;
      out.push(this.sample(t));
      this.emitted++;
    }
    // Forget input no future output sample can reach.
    const keepFrom = Math.max(this.base, Math.floor(this.emitted * this.step - this.half) - 1);
    const drop = keepFrom - this.base;
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      this.base = keepFrom;
    }
    return Float32Array.from(out);
  }

  /** Feed input samples; returns the output samples that are now final. */
  process(input: Float32Array): Float32Array {
    if (this.inRate === this.outRate) return input.slice();
    this.append(input);
    return this.drain((t) => t + this.half < this.seen);
  }

  /** The output samples still held back for their right-hand context (end of stream). */
  flush(): Float32Array {
    if (this.inRate === this.outRate) return new Float32Array(0);
    return this.drain((t) => t < this.seen);
  }
}

/** Float samples in [-1, 1] to PCM16. */
export function toInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]));
    out[i] = v < 0 ? Math.round(v * 32768) : Math.round(v * 32767);
  }
  return out;
}

/** Resamples to 16 kHz and cuts the PCM16 into frames of `frameSamples`. */
export class PcmFramer {
  private readonly resampler: Resampler;
  private frame: Int16Array;
  private filled = 0;

  constructor(
    inRate: number,
    private readonly onFrame: (pcm: Int16Array) => void,
    private readonly frameSamples: number = FRAME_SAMPLES,
  ) {
    this.resampler = new Resampler(inRate, LIVE_RATE);
    this.frame = new Int16Array(frameSamples);
  }

  private take(samples: Float32Array): void {
    const pcm = toInt16(samples);
    let offset = 0;
    while (offset < pcm.length) {
      const n = Math.min(this.frameSamples - this.filled, pcm.length - offset);
      this.frame.set(pcm.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameSamples) {
        this.onFrame(this.frame);
        this.frame = new Int16Array(this.frameSamples);
        this.filled = 0;
      }
    }
  }

  push(samples: Float32Array): void {
    this.take(this.resampler.process(samples));
  }

  /** Emit everything held back, the last frame shorter than the others. */
  flush(): void {
    this.take(this.resampler.flush());
    if (this.filled > 0) this.onFrame(this.frame.slice(0, this.filled));
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
  }
}
