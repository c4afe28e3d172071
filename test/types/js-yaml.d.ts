// js-yaml ships no types; this covers the part the tests use.
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
