/**
 * A tiny event emitter that behaves the same in browsers and in Node: `on(type, fn)` and
 * `off(type, fn)`, each listener called with one detail object, in the order listeners were added.
 * A listener that throws stops neither the other listeners nor the client: its error is rethrown
 * on a task of its own, where the environment reports it, as EventTarget does.
 * @template {{ [type: string]: unknown }} Events
 */
export class Emitter {
  /** @type {Map<keyof Events, Set<(detail: any) => void>>} */
  #listeners = new Map();

  /**
   * Call `fn` with the detail of every event of `type`.
   * @template {keyof Events} K
   * @param {K} type
   * @param {(detail: Events[K]) => void} fn
   * @returns {() => void} removes the listener again
   */
  on(type, fn) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }

  /**
   * @template {keyof Events} K
   * @param {K} type
   * @param {(detail: Events[K]) => void} fn
   */
  off(type, fn) {
    this.#listeners.get(type)?.delete(fn);
  }

  /**
   * @protected
   * @template {keyof Events} K
   * @param {K} type
   * @param {Events[K]} detail
   */
  emit(type, detail) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(detail);
      } catch (err) {
        setTimeout(() => { throw err; }, 0);
      }
    }
  }
}
