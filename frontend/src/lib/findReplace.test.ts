import { describe, expect, it } from "vitest";
import { findIn, findMatches, replacements } from "./findReplace";

describe("findIn", () => {
  it("ignores case and accents both ways", () => {
    expect(findIn(" La Acción y la accion", "accion")).toEqual([
      [4, 10],
      [16, 22],
    ]);
    expect(findIn(" una ACCION más", "acción")).toEqual([[5, 11]]);
    expect(findIn(" El Niño", "nino")).toEqual([[4, 8]]);
  });

  it("covers accents written apart (e + U+0301) in the original text", () => {
    const text = " cafe\u0301 solo";
    const [[start, end]] = findIn(text, "café");
    expect(text.slice(start, end)).toBe("cafe\u0301");
  });

  it("finds several matches in one segment, without overlapping, and nothing for a blank query", () => {
    expect(findIn("aaaa", "aa")).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(findIn("texto", "  ")).toEqual([]);
    expect(findIn("texto", "")).toEqual([]);
  });
});

const segments = [
  { id: 0, text: " Ask not what your country can do for you," },
  { id: 1, text: " ask what you can do for your Country." },
  { id: 2, text: " La acción del país." },
];

describe("findMatches", () => {
  it("walks the whole text across segments, in reading order", () => {
    expect(findMatches(segments, "country")).toEqual([
      { segment: 0, start: segments[0].text.indexOf("country"), end: segments[0].text.indexOf("country") + 7 },
      { segment: 1, start: segments[1].text.indexOf("Country"), end: segments[1].text.indexOf("Country") + 7 },
    ]);
    expect(findMatches(segments, "ask").map((m) => m.segment)).toEqual([0, 1]);
    expect(findMatches(segments, "pais")).toEqual([{ segment: 2, start: segments[2].text.indexOf("país"), end: segments[2].text.indexOf("país") + 4 }]);
  });

  it("never matches across two segments", () => {
    expect(findMatches(segments, "you, ask")).toEqual([]);
  });
});

describe("replacements", () => {
  it("replace all gives each touched segment its whole new text", () => {
    const matches = findMatches(segments, "YOU");
    expect(matches.map((m) => m.segment)).toEqual([0, 0, 1, 1]); // "your", "you", "you", "your"
    expect(replacements(segments, matches, "vos")).toEqual([
      { id: 0, text: "Ask not what vosr country can do for vos," },
      { id: 1, text: "ask what vos can do for vosr Country." },
    ]);
  });

  it("replacing one match changes only its segment, accents and case as typed", () => {
    const matches = findMatches(segments, "accion");
    expect(replacements(segments, matches, "Decisión")).toEqual([{ id: 2, text: "La Decisión del país." }]);
    const second = findMatches(segments, "country")[1];
    expect(replacements(segments, [second], "nation")).toEqual([{ id: 1, text: "ask what you can do for your nation." }]);
  });

  it("keeps segments apart when matches come out of order", () => {
    const matches = findMatches(segments, "can").reverse();
    expect(replacements(segments, matches, "could")).toEqual([
      { id: 0, text: "Ask not what your country could do for you," },
      { id: 1, text: "ask what you could do for your Country." },
    ]);
  });
});
