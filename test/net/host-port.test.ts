import { describe, expect, it } from "vitest";
import { formatHostPort, parseHostPort } from "../../src/net/host-port";

describe("parseHostPort", () => {
  it("parses host names, IPv4 and bracketed IPv6", () => {
    expect(parseHostPort("127.0.0.1:18002", "--modules-address")).toEqual({ host: "127.0.0.1", port: 18002 });
    expect(parseHostPort("localhost:0", "--modules-address")).toEqual({ host: "localhost", port: 0 });
    expect(parseHostPort("[::1]:18002", "--modules-address")).toEqual({ host: "::1", port: 18002 });
    expect(parseHostPort("[::]:80", "--modules-address")).toEqual({ host: "::", port: 80 });
    expect(parseHostPort("cp.example.com:443", "--modules-address")).toEqual({ host: "cp.example.com", port: 443 });
  });

  it.each([
    "x",
    "",
    ":18002",
    "127.0.0.1:",
    "127.0.0.1:port",
    "127.0.0.1:65536",
    "127.0.0.1:-1",
    "::1:18002",
    "[::1]18002",
    "[::1",
    "[nope]:1",
    "bad host:1",
  ])("rejects %j naming the flag and the input", (text) => {
    expect(() => parseHostPort(text, "--modules-address")).toThrow(
      expect.objectContaining({
        code: "ADDRESS_INVALID",
        message: expect.stringContaining(`--modules-address: expected HOST:PORT, got ${JSON.stringify(text)}`),
      }),
    );
  });

  it("gives exactly the documented message for a bare word", () => {
    expect(() => parseHostPort("x", "--modules-address")).toThrow('--modules-address: expected HOST:PORT, got "x"');
  });
});

describe("formatHostPort", () => {
  it("brackets IPv6 literals and round-trips", () => {
    expect(formatHostPort({ host: "::1", port: 18002 })).toBe("[::1]:18002");
    expect(formatHostPort({ host: "127.0.0.1", port: 18002 })).toBe("127.0.0.1:18002");
    expect(formatHostPort(parseHostPort("[::1]:9", "--x"))).toBe("[::1]:9");
  });
});
