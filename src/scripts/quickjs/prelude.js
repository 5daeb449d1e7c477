// Runs once per runtime, before any script (PRELUDE in quickjs.rs). Called with the native log
// sink and the parsed `platform.config`; returns the checked compiler and the frozen `platform`.
// Every built-in used after setup is captured here, because scripts share the context and one
// that replaces `Function.prototype.call` or `JSON.stringify` must not break the next script.
(function (sink, config) {
  const apply = Reflect.apply, map = Array.prototype.map, join = Array.prototype.join;
  const stringify = JSON.stringify, toText = String;
  const show = (v) => {
    if (typeof v === 'string') return v;
    try { const s = stringify(v); return s === undefined ? toText(v) : s; }
    catch (e) { try { return toText(v); } catch (e2) { return '[unprintable]'; } }
  };
  const to = (level) => function () { sink(level, apply(join, apply(map, arguments, [show]), [' '])); };
  globalThis.console = { log: to(0), info: to(0), debug: to(0), warn: to(1), error: to(2) };
  globalThis.var_dump = to(0);
  const freeze = (o) => {
    if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
      Object.freeze(o);
      Object.values(o).forEach(freeze);
    }
    return o;
  };
  // QuickJS builds `function anonymous(event,platform\n) {\nBODY\n}` and evaluates it, so a body
  // can close that text early; only an intact body gives back exactly that source text.
  const make = Function, text = Function.prototype.toString;
  const compile = (body) => {
    const f = make('event', 'platform', body);
    if (typeof f !== 'function' || apply(text, f, []) !== 'function anonymous(event,platform\n) {\n' + body + '\n}')
      throw new SyntaxError('the script closes the function it runs in');
    return f;
  };
  return { compile: compile, platform: freeze({ config: config }) };
})
