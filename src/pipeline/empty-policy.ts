/** What an empty non-key cell becomes (`--empty`, a mapping's `empty`): no attribute, `""`, or `NULL`. */
export type EmptyPolicy = 'drop' | 'string' | 'null';

export const EMPTY_POLICIES: readonly EmptyPolicy[] = ['drop', 'string', 'null'];
