import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { groupLines } from "./JobView";
import { SpeakerLabel, speakerAt, speakerName } from "./SpeakerLabel";
import { SpeakersEditor } from "./SpeakersEditor";

describe("speaker labels", () => {
  it("shows the name given to a label, else the label", () => {
    expect(speakerName("S1", { S1: "Ana" })).toBe("Ana");
    expect(speakerName("S2", { S1: "Ana" })).toBe("S2");
    expect(speakerName(null, { S1: "Ana" })).toBeNull();
    render(<SpeakerLabel label="S1" names={{ S1: "Ana" }} />);
    expect(screen.getByText("Ana")).toHaveAttribute("data-speaker", "S1");
  });

  it("finds the speaker of a time in the turns, and live lines break at a turn", () => {
    const turns = [
      { t0: 0, t1: 2, speaker: "S1" },
      { t0: 2.5, t1: 4, speaker: "S2" },
    ];
    expect(speakerAt(turns, 1)).toBe("S1");
    expect(speakerAt(turns, 3)).toBe("S2");
    const words = [
      { seq: 0, text: " a", t0: 0, t1: 0.3, speaker: "S1" },
      { seq: 1, text: " b", t0: 0.4, t1: 0.6, speaker: "S2" },
    ];
    expect(groupLines(words).length).toBe(2);
  });
});

describe("speakers editor", () => {
  it("sends only the changed names, null for a cleared one", async () => {
    const onSave = vi.fn().mockResolvedValue(undefined);
    render(<SpeakersEditor speakers={["S1", "S2"]} names={{ S2: "Luis" }} onSave={onSave} />);
    fireEvent.change(screen.getByLabelText("Nombre de S1"), { target: { value: " Ana " } });
    fireEvent.change(screen.getByLabelText("Nombre de S2"), { target: { value: "" } });
    fireEvent.click(screen.getByRole("button", { name: "Guardar nombres" }));
    await waitFor(() => expect(onSave).toHaveBeenCalledWith({ S1: "Ana", S2: null }));
    expect(await screen.findByRole("status")).toHaveTextContent("Nombres guardados");
  });

  it("refuses a name over 40 characters", () => {
    render(<SpeakersEditor speakers={["S1"]} names={{}} onSave={vi.fn()} />);
    fireEvent.change(screen.getByLabelText("Nombre de S1"), { target: { value: "x".repeat(41) } });
    expect(screen.getByRole("alert")).toHaveTextContent("40");
    expect(screen.getByRole("button", { name: "Guardar nombres" })).toBeDisabled();
  });
});
