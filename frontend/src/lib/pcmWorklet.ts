// The AudioWorkletProcessor behind Grabar: the microphone at the context's rate (44.1 or
// 48 kHz, mono or stereo) in, 16 kHz PCM16 frames of ~0.5 s posted to the main thread.
// Vite builds it as its own module (hooks/useLiveRecorder.ts imports it with ?worker&url):
// an AudioWorklet runs on the audio thread, where the app's bundle cannot be.
import { FRAME_SAMPLES, PcmFramer } from "./resampler";

// The AudioWorkletGlobalScope is not in TypeScript's DOM library.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, processor: new (options: { processorOptions?: unknown }) => AudioWorkletProcessor): void;

/** Messages the main thread sends the processor. */
export type WorkletCommand = { type: "pause" } | { type: "resume" } | { type: "flush" };
/** Messages the processor posts: a frame (PCM16 LE bytes), or the end after a flush. */
export type WorkletMessage = { type: "frame"; pcm: ArrayBuffer } | { type: "flushed" };

class PcmCapture extends AudioWorkletProcessor {
  private paused = false;
  private done = false;
  private readonly framer: PcmFramer;

  constructor(options: { processorOptions?: unknown }) {
    super(options);
    const frameSamples = (options.processorOptions as { frameSamples?: number } | undefined)?.frameSamples ?? FRAME_SAMPLES;
    this.framer = new PcmFramer(
      sampleRate,
      (pcm) => {
        // The framer never reuses a frame it has handed over, so its buffer can be transferred.
        const bytes = (pcm.byteOffset === 0 && pcm.buffer.byteLength === pcm.byteLength ? pcm.buffer : pcm.slice().buffer) as ArrayBuffer;
        this.port.postMessage({ type: "frame", pcm: bytes } satisfies WorkletMessage, [bytes]);
      },
      frameSamples,
    );
    this.port.onmessage = (event: MessageEvent<WorkletCommand>) => {
      const command = event.data;
      if (command.type === "pause") this.paused = true;
      else if (command.type === "resume") this.paused = false;
      else if (command.type === "flush" && !this.done) {
        this.done = true;
        this.framer.flush();
        this.port.postMessage({ type: "flushed" } satisfies WorkletMessage);
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.done) return false;
    const channels = inputs[0];
    if (this.paused || !channels || channels.length === 0) return true;
    let mono = channels[0];
    if (channels.length > 1) {
      mono = new Float32Array(channels[0].length);
      for (const channel of channels) for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / channels.length;
    }
    this.framer.push(mono);
    return true;
  }
}

registerProcessor("pcm-capture", PcmCapture);
