import { describe, expect, it } from "vitest";
import { findJsonSyntaxError } from "../shared/config/json-syntax.ts";

/** The scanner must agree with JSON.parse on what is valid; only its messages are its own. */
describe("findJsonSyntaxError", () => {
  const valid = [
    "{}", "[]", '""', "0", "-0.5e+10", "1E3", "true", "false", "null",
    ' \t\n{ "a" : [1, {"b": null}, "x\\u00e9\\n"] } ', '{"a":{"b":{"c":[[],[{}]]}}}', '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
  ];
  const invalid: [name: string, text: string, offset: number][] = [
    ["empty", "", 0],
    ["leading-zero", "01", 1],
    ["lone-minus", "-", 1],
    ["dot-without-digits", "1.", 2],
    ["exponent-without-digits", "1e+", 3],
    ["misspelt-literal", "nul", 3],
    ["wrong-literal", "tru3", 3],
    ["unterminated-string", '"abc', 4],
    ["raw-newline-in-string", '"a\nb"', 2],
    ["bad-escape", '"\\x"', 2],
    ["short-unicode-escape", '"\\u12"', 5],
    ["missing-colon", '{"a" 1}', 5],
    ["missing-comma", "[1 2]", 3],
    ["trailing-comma-in-array", "[1,]", 3],
    ["unquoted-key", "{a:1}", 1],
    ["two-values", "1 2", 2],
  ];

  it.each(valid)("accepts %j", (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(findJsonSyntaxError(text)).toBeNull();
  });

  it.each(invalid)("%s: %j breaks at offset %d", (_name, text, offset) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(findJsonSyntaxError(text)?.offset).toBe(offset);
  });

  it("counts lines and columns from 1", () => {
    expect(findJsonSyntaxError('{\n  "a": 1,\n  "b": ]\n}')).toMatchObject({ line: 3, column: 8, offset: 19, expected: "expected a value" });
  });
});
