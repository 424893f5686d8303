import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

const usage = vi.hoisted(() => ({ data: null as unknown, error: null as unknown }));
vi.mock("../api/queries", () => ({ useUsage: () => usage }));

import { Uso } from "./Uso";

describe("Uso", () => {
  it("shows the seconds jobs in flight reserve, so a refused submit makes sense", () => {
    usage.data = {
      month: "2026-12",
      audio_seconds: 600,
      jobs: 3,
      quota_seconds: 3600,
      remaining_seconds: 2100,
      reserved_seconds: 900,
      jobs_in_flight: 2,
    };
    render(<Uso />);
    expect(screen.getByText(/reservado por trabajos en curso \(2\)/)).toHaveTextContent("15:00");
    expect(screen.getByText(/quedan 35:00/)).toBeInTheDocument();
  });

  it("says nothing of reservations when nothing is in flight", () => {
    usage.data = { month: "2026-12", audio_seconds: 0, jobs: 0, quota_seconds: null, remaining_seconds: null, reserved_seconds: 0, jobs_in_flight: 0 };
    render(<Uso />);
    expect(screen.queryByText(/reservado/)).toBeNull();
  });
});
