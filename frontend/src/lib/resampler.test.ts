import { describe, expect, it } from "vitest";
import { FRAME_SAMPLES, PcmFramer, Resampler, toInt16 } from "./resampler";

function sine(rate: number, freq: number, seconds: number, amplitude = 0.8): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

/** Feed the input in 128-sample render quanta, as an AudioWorklet gets it, then flush. */
function resample(input: Float32Array, inRate: number): Float32Array {
  const r = new Resampler(inRate, 16_000);
  const parts: Float32Array[] = [];
  for (let i = 0; i < input.length; i += 128) parts.push(r.process(input.subarray(i, i + 128)));
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Frequency from the rising zero crossings (interpolated) over the middle of the signal. */
function frequency(samples: Float32Array, rate: number): number {
  const crossings: number[] = [];
  for (let i = Math.floor(samples.length * 0.1); i < samples.length * 0.9; i++)
    if (samples[i - 1] < 0 && samples[i] >= 0) crossings.push(i - 1 + samples[i - 1] / (samples[i - 1] - samples[i]));
  const periods = crossings.length - 1;
  return (periods * rate) / (crossings[crossings.length - 1] - crossings[0]);
}

const rms = (x: Float32Array, from = 0, to = x.length) => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / (to - from));
};

describe("Resampler", () => {
  it("turns one second of a 48 kHz 440 Hz sine into 16,000 samples of a 440 Hz sine", () => {
    const out = resample(sine(48_000, 440, 1), 48_000);
    expect(out.length).toBe(16_000);
    expect(frequency(out, 16_000)).toBeCloseTo(440, 0);
    // The amplitude survives (0.8 peak → 0.8/√2 RMS), edges aside.
    expect(rms(out, 1000, 15_000)).toBeCloseTo(0.8 / Math.SQRT2, 2);
  });

  it("handles 44.1 kHz (a ratio that is not a whole number)", () => {
    const out = resample(sine(44_100, 1000, 2), 44_100);
    expect(out.length).toBe(32_000);
    expect(frequency(out, 16_000)).toBeCloseTo(1000, 0);
    expect(rms(out, 1000, 31_000)).toBeCloseTo(0.8 / Math.SQRT2, 2);
  });

  it("filters out what is above 8 kHz instead of folding it into speech", () => {
    // Dropping 2 of every 3 samples would turn 12 kHz into a full-strength 4 kHz tone.
    const input = sine(48_000, 12_000, 1);
    const dropped = Float32Array.from({ length: 16_000 }, (_, i) => input[i * 3]);
    expect(rms(dropped, 1000, 15_000)).toBeGreaterThan(0.3);
    expect(rms(resample(input, 48_000), 1000, 15_000)).toBeLessThan(0.01);
  });

  it("gives the same samples however the input is cut", () => {
    const input = sine(48_000, 300, 0.5);
    const whole = new Resampler(48_000);
    const a = [...whole.process(input), ...whole.flush()];
    const b = Array.from(resample(input, 48_000));
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 6);
  });

  it("passes 16 kHz through unchanged", () => {
    const input = sine(16_000, 440, 0.25);
    const out = resample(input, 16_000);
    expect(out.length).toBe(input.length);
    for (let i = 0; i < input.length; i += 97) expect(out[i]).toBeCloseTo(input[i], 5);
  });
});

describe("PcmFramer", () => {
  it("cuts PCM16 frames of 0.5 s and flushes a shorter last one", () => {
    const frames: Int16Array[] = [];
    const framer = new PcmFramer(48_000, (f) => frames.push(f));
    const input = sine(48_000, 440, 1.3);
    for (let i = 0; i < input.length; i += 128) framer.push(input.subarray(i, i + 128));
    expect(frames.map((f) => f.length)).toEqual([FRAME_SAMPLES, FRAME_SAMPLES]);
    framer.flush();
    expect(frames.map((f) => f.length)).toEqual([8000, 8000, 4800]);
    expect(frames[0].byteLength).toBe(16_000);
    expect(Math.max(...frames[1])).toBeGreaterThan(0.75 * 32767);
  });

  it("clamps to the PCM16 range", () => {
    expect(Array.from(toInt16(Float32Array.from([0, 1, -1, 2, -2, 0.5])))).toEqual([0, 32767, -32768, 32767, -32768, 16384]);
  });
});
