// The op registry. Ops are named once, in engine/backend.ts BackendOps. Each backend implements
// them in op families: a family module (backends/<kind>/<family>.ts) exports
//   export const ops = { silu, siluBackward, … } satisfies CpuFamily;
// where each entry is the Backend method's signature with the backend as first argument, and
// backends/<kind>/families.ts lists the families (generated from op-families.ts). The backend class gets its op
// methods from that list (withOps). The compiler rejects a family entry with a wrong name or
// signature, an op that no family implements, and an op that two families implement.

import type { BackendCore, BackendOps } from '../engine/backend';

export type OpName = keyof BackendOps;

/** Op K for backend type B: the Backend method, with the backend itself as first argument. */
export type OpImpl<B, K extends OpName> = (be: B, ...args: Parameters<BackendOps[K]>) => ReturnType<BackendOps[K]>;

/** Some of the ops, implemented for backend type B. */
export type OpFamily<B> = { readonly [K in OpName]?: OpImpl<B, K> };

/** The ops a table of families implements. */
type Provided<T> = { [F in keyof T]: keyof T[F] }[keyof T];

/** Ops implemented by more than one family of the table. */
type Duplicated<T> = { [F in keyof T]: keyof T[F] & Provided<Omit<T, F>> }[keyof T];

/** T when its families implement every op exactly once; otherwise a type naming what is wrong. */
export type CompleteOps<T> = [Exclude<OpName, Provided<T>>] extends [never]
  ? [Duplicated<T>] extends [never]
    ? T
    : { 'ops implemented by two families': Duplicated<T> }
  : { 'ops no family implements': Exclude<OpName, Provided<T>> };

type CoreClass = new (...args: never[]) => BackendCore;

/** A backend class: the core class's constructor and statics, making instances with every op. */
export type BackendClass<C extends CoreClass> = Omit<C, 'prototype'> &
  (new (
    ...args: ConstructorParameters<C>
  ) => InstanceType<C> & BackendOps);

/**
 * Give a core class (identity, memory, host helpers) the ops of a table of families: method
 * `op(...args)` on its prototype calls the family's `op(this, ...args)`. Returns the same class,
 * typed as a full backend.
 */
export function withOps<C extends CoreClass, T extends Record<string, OpFamily<InstanceType<C> & BackendOps>>>(
  kind: string,
  Core: C,
  families: T & CompleteOps<T>,
): BackendClass<C> {
  const from = new Map<string, string>();
  for (const [family, ops] of Object.entries(families as T)) {
    for (const [name, impl] of Object.entries(ops) as Array<[string, (...args: unknown[]) => unknown]>) {
      // The compiler rules this out (CompleteOps); a table built around it fails here, at load time.
      if (from.has(name)) throw new Error(`${kind} backend: op "${name}" in families ${from.get(name)} and ${family}`);
      from.set(name, family);
      Object.defineProperty(Core.prototype, name, {
        value: function (this: unknown, ...args: unknown[]) {
          return impl(this, ...args);
        },
        writable: true,
        configurable: true,
      });
    }
  }
  return Core as unknown as BackendClass<C>;
}
