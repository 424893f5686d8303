import { render, waitFor } from "@testing-library/react";
import { useEffect } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { QueryClientProvider } from "@tanstack/react-query";
import { authHeader } from "./api/client";
import { createQueryClient } from "./api/queries";
import { AuthProvider } from "./auth";

afterEach(() => localStorage.clear());

describe("authentication on a screen opened directly", () => {
  it("gives a child's first request the stored token (its effect runs before the provider's)", async () => {
    // Given a stored, unexpired session (a reload or a bookmark of /biblioteca)
    localStorage.setItem("grabadora.session", JSON.stringify({ token: "tok-123", email: "a@b.c", expiresAt: Date.now() + 60_000 }));
    const seen: Record<string, string>[] = [];
    function Screen() {
      // When the screen calls the API from its mount effect
      useEffect(() => {
        seen.push(authHeader());
      }, []);
      return null;
    }
    render(
      <QueryClientProvider client={createQueryClient()}>
        <AuthProvider>
          <Screen />
        </AuthProvider>
      </QueryClientProvider>,
    );
    // Then that very first request carries the token
    await waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toEqual({ Authorization: "Bearer tok-123" });
  });
});
