import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { defaultChoices, type TranscribeChoices } from "../api/upload";
import { describe, expect, it } from "vitest";
import { initialStreamState, type StreamState } from "../hooks/useEventStream";
import type { SenderStatus } from "../lib/liveSession";
import { defaultFinalPass, OptionsForm } from "./OptionsForm";
import { LiveTranscript } from "./LiveTranscript";

const sender = (over: Partial<SenderStatus> = {}): SenderStatus => ({
  state: "sending",
  liveId: "L1",
  streamUrl: "/transcribe/L1?token=s",
  frames: 10,
  acked: 10,
  detail: null,
  session: null,
  options: {},
  ...over,
});

const stream = (over: Partial<StreamState> = {}): StreamState => ({
  ...initialStreamState,
  status: "open",
  lastSeq: 2,
  words: [
    { seq: 0, text: " And", t0: 0, t1: 0.3 },
    { seq: 1, text: " so", t0: 0.3, t1: 0.6 },
  ],
  wordCount: 2,
  partial: { text: " my fellow", t0: 0.6, t1: 1.4 },
  ...over,
});

describe("LiveTranscript", () => {
  it("shows confirmed words, then the lighter tentative tail outside the live region", () => {
    render(<LiveTranscript phase="recording" stream={stream()} sender={sender()} final={null} finalPass={false} />);
    const confirmed = screen.getByTestId("confirmed-words");
    expect(confirmed).toHaveTextContent("And so");
    expect(confirmed).toHaveAttribute("aria-live", "polite");
    const tail = screen.getByTestId("tentative-words");
    expect(tail).toHaveClass("tentative");
    expect(tail).toHaveTextContent("my fellow");
    expect(confirmed).not.toContainElement(tail);
    expect(tail.closest("[aria-live]")).toBeNull();
    expect(screen.getByRole("status")).toHaveTextContent("Transcribiendo mientras hablas");
  });

  it("says when frames wait for the network", () => {
    render(<LiveTranscript phase="recording" stream={stream()} sender={sender({ state: "waiting", acked: 6 })} final={null} finalPass={false} onRetry={() => undefined} />);
    expect(screen.getByRole("status")).toHaveTextContent("Sin conexión: la grabación continúa y 4 fragmentos esperan a enviarse.");
    expect(screen.getByRole("button", { name: "Reintentar ahora" })).toBeInTheDocument();
  });

  it("says the text is being improved during the final pass", () => {
    render(
      <LiveTranscript
        phase="finishing"
        stream={stream({ partial: null, stage: "final", progress: 0.4 })}
        sender={sender({ state: "stopped" })}
        final={null}
        finalPass
      />,
    );
    expect(screen.getByRole("status")).toHaveTextContent("Mejorando el texto…");
    expect(screen.getByRole("progressbar", { name: "Mejorando el texto…" })).toHaveAttribute("aria-valuenow", "40");
  });

  it("labels each speaker's turn in the final text of a diarized session, with the names given", () => {
    const final = {
      id: "L1",
      status: "completed",
      exports: [],
      tags: [],
      speakers: ["S1", "S2"],
      speaker_names: { S2: "Luis" },
      segments: [
        { id: 0, t0: 0, t1: 2, text: " Hola.", speaker: "S1", words: [] },
        { id: 1, t0: 2, t1: 4, text: " ¿Qué tal?", speaker: "S1", words: [] },
        { id: 2, t0: 4, t1: 6, text: " Bien.", speaker: "S2", words: [] },
        { id: 3, t0: 6, t1: 8, text: " Me alegro.", speaker: "S1", words: [] },
      ],
    } as never;
    render(<LiveTranscript phase="done" stream={stream({ status: "completed" })} sender={sender({ state: "stopped" })} final={final} finalPass={false} />);
    const labels = screen.getByTestId("live-words").querySelectorAll(".speaker-label");
    expect(Array.from(labels, (l) => [l.getAttribute("data-speaker"), l.textContent])).toEqual([
      ["S1", "S1"],
      ["S2", "Luis"],
      ["S1", "S1"],
    ]);
  });

  it("shows the final text and a way to the Biblioteca when done", () => {
    const final = {
      id: "L1",
      status: "completed",
      exports: [],
      tags: [],
      segments: [{ id: 0, t0: 0, t1: 2, text: " And so my fellow Americans.", words: [] }],
    } as never;
    render(<LiveTranscript phase="done" stream={stream({ status: "completed" })} sender={sender({ state: "stopped" })} final={final} finalPass={false} onOpen={() => undefined} />);
    expect(screen.getByRole("status")).toHaveTextContent("Transcripción terminada");
    expect(screen.getByTestId("live-words")).toHaveTextContent("And so my fellow Americans.");
    expect(screen.getByRole("button", { name: "Abrir en la Biblioteca" })).toBeInTheDocument();
  });
});

describe("final pass default", () => {
  it("is on for Preciso and for speakers", () => {
    expect(defaultFinalPass({ profile: "precise", diarization: false })).toBe(true);
    expect(defaultFinalPass({ profile: "balanced", diarization: true })).toBe(true);
    expect(defaultFinalPass({ profile: "fast", diarization: false })).toBe(false);
  });
});

describe("OptionsForm for a live session", () => {
  function Form() {
    const [value, setValue] = useState<TranscribeChoices>(defaultChoices);
    return <OptionsForm value={value} onChange={setValue} live />;
  }

  it("offers the final pass, on by default for Preciso or speakers, until the user sets it", () => {
    render(<Form />);
    const finalPass = screen.getByLabelText("Pasada final") as HTMLInputElement;
    expect(screen.queryByLabelText("Marcas de tiempo por palabra")).toBeNull();
    expect(finalPass.checked).toBe(false);
    fireEvent.click(screen.getByLabelText("Preciso"));
    expect(finalPass.checked).toBe(true);
    fireEvent.click(screen.getByLabelText("Equilibrado"));
    fireEvent.click(screen.getByLabelText("Separar hablantes"));
    expect(finalPass.checked).toBe(true);
    fireEvent.click(finalPass);
    expect(finalPass.checked).toBe(false);
  });
});
