/**
 * Where a JSON text breaks, for messages such as `SENTINEL_SETTINGS: not valid JSON at line 3, column 15:
 * expected "," or "}" after a property`. JSON.parse's own messages differ between engines, sometimes
 * carry no position, and sometimes quote the input; this scanner follows RFC 8259 and quotes nothing.
 */
export interface JsonSyntaxError {
  /** 0-based offset of the first character that cannot be part of valid JSON (the length at end of input). */
  offset: number;
  /** 1-based. */
  line: number;
  column: number;
  expected: string;
}

class Broken extends Error {
  constructor(readonly offset: number, readonly expected: string) {
    super(expected);
  }
}

/** The first syntax error in `text`, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const fail = (expected: string): never => {
    throw new Broken(i, i >= text.length ? `${expected}, but the text ends` : expected);
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`expected ${word}`);
      i++;
    }
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail('expected a closing "');
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail("expected no raw control character (line break, tab) inside a string");
      if (c === 0x5c) {
        i++;
        if (text[i] === "u") {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail("expected 4 hex digits after \\u");
        } else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail('expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX');
      } else i++;
    }
  };
  const digits = (what: string) => {
    if (!/[0-9]/.test(text[i] ?? "")) fail(`expected a digit ${what}`);
    while (/[0-9]/.test(text[i] ?? "")) i++;
  };
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits("in the number");
    if (text[i] === ".") {
      i++;
      digits("after the decimal point");
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits("in the exponent");
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    if (c === "-" || /[0-9]/.test(c ?? "")) return number();
    fail(c === "'" ? "expected a value (strings take double quotes)" : "expected a value");
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === "}") return void i++;
    for (;;) {
      ws();
      if (text[i] !== '"') fail('expected a double-quoted property name');
      string();
      ws();
      if (text[i] !== ":") fail('expected ":" after the property name');
      i++;
      value();
      ws();
      if (text[i] === "}") return void i++;
      if (text[i] !== ",") fail('expected "," or "}" after a property');
      i++;
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === "]") return void i++;
    for (;;) {
      value();
      ws();
      if (text[i] === "]") return void i++;
      if (text[i] !== ",") fail('expected "," or "]" after an element');
      i++;
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail("expected nothing after the JSON value");
    return null;
  } catch (error) {
    if (!(error instanceof Broken)) throw error;
    const before = text.slice(0, error.offset).split("\n");
    return { offset: error.offset, line: before.length, column: before.at(-1)!.length + 1, expected: error.expected };
  }
}
