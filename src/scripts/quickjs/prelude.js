// Runs once per runtime, before any script (PRELUDE in quickjs.rs). Called with the native log
// sink, the parsed `platform.config` and the native store; returns what the host calls: the
// checked compiler, the per-call `platform` maker, and the `platform.api` queue's take, settle
// and forget. Every built-in used after setup is captured here, because scripts share the
// context and one that replaces `Function.prototype.call` or `JSON.stringify` must not break
// the next script.
(function (sink, config, storeOp, markQueued, part) {
  const apply = Reflect.apply, map = Array.prototype.map, join = Array.prototype.join;
  const stringify = JSON.stringify, parse = JSON.parse, toText = String, P = Promise;
  const objectFreeze = Object.freeze, isFrozen = Object.isFrozen, values = Object.values;
  const forEach = Array.prototype.forEach;
  const M = Map, mset = M.prototype.set, mget = M.prototype.get, mdel = M.prototype.delete;
  const show = (v) => {
    if (typeof v === 'string') return v;
    try { const s = stringify(v); return s === undefined ? toText(v) : s; }
    catch (e) { try { return toText(v); } catch (e2) { return '[unprintable]'; } }
  };
  const to = (level) => function () { sink(level, apply(join, apply(map, arguments, [show]), [' '])); };
  globalThis.console = { log: to(0), info: to(0), debug: to(0), warn: to(1), error: to(2) };
  globalThis.var_dump = to(0);
  const freeze = (o) => {
    if (o !== null && typeof o === 'object' && !isFrozen(o)) {
      objectFreeze(o);
      apply(forEach, values(o), [freeze]);
    }
    return o;
  };
  // QuickJS builds `function anonymous(event,platform\n) {\nBODY\n}` (with `async` in front for
  // an async body) and evaluates it, so a body can close that text early; only an intact body
  // gives back exactly that source text.
  const make = Function, makeAsync = (async function () {}).constructor;
  const text = Function.prototype.toString;
  const compile = (body, isAsync) => {
    const f = isAsync ? makeAsync('event', 'platform', body) : make('event', 'platform', body);
    const head = (isAsync ? 'async ' : '') + 'function anonymous(event,platform\n) {\n';
    if (typeof f !== 'function' || apply(text, f, []) !== head + body + '\n}')
      throw new SyntaxError('the script closes the function it runs in');
    return f;
  };
  // platform.api: a request gets an id and a promise and waits in `queue` until the host takes
  // it (after the script yields), makes the call through the API pipeline and settles it.
  let nextId = 0, queue = [];
  const waiting = new M();
  const call = function (method, path, payload, options) {
    const id = ++nextId;
    const body = payload === undefined || payload === null ? null
      : typeof payload === 'string' ? payload : stringify(payload);
    const opts = options === undefined || options === null ? null : parse(stringify(options));
    let resolve;
    const promise = new P((r) => { resolve = r; });
    apply(mset, waiting, [id, resolve]);
    queue[queue.length] = { id: id, method: toText(method), path: toText(path), payload: body, options: opts };
    markQueued();
    return promise;
  };
  const api = freeze({
    call: call,
    get: (path, payload, options) => call('GET', path, payload, options),
    post: (path, payload, options) => call('POST', path, payload, options),
    put: (path, payload, options) => call('PUT', path, payload, options),
    patch: (path, payload, options) => call('PATCH', path, payload, options),
    delete: (path, payload, options) => call('DELETE', path, payload, options),
  });
  const take = () => {
    if (queue.length === 0) return null;
    const q = queue;
    queue = [];
    return stringify(q);
  };
  const settle = (id, answer) => {
    const resolve = apply(mget, waiting, [id]);
    if (resolve !== undefined) { apply(mdel, waiting, [id]); resolve(answer); }
  };
  const forget = (id) => { apply(mdel, waiting, [id]); };
  const store = freeze({
    get: (key) => { const v = storeOp(0, toText(key), ''); return v === undefined || v === null ? null : parse(v); },
    set: (key, value) => {
      const json = stringify(value === undefined ? null : value);
      if (storeOp(1, toText(key), json === undefined ? 'null' : json) !== 'ok') throw new Error('platform.store is full');
      return true;
    },
    delete: (key) => storeOp(2, toText(key), '') === 'ok',
  });
  freeze(config);
  // `event.request` is a host object that owns the request's parts (see request.rs); this is
  // its prototype. Each member is an accessor that asks the host for it when first read:
  // strings on every read (they are values, nothing to keep), the objects (`parameters`,
  // `headers`, `payload`) once, after which they are own data properties so that changes to
  // them stick. Assigning a member makes it an own data property too.
  // `api_version` and `content_type` are constants here, and `toJSON` lists every member, so
  // the request reads and serialises as a plain object. A call creates no closures: closures
  // over the object would be cycles only the collector frees.
  // Reflect's define fails quietly on a request the script froze, as assignment to a frozen
  // plain object does.
  const defineProperty = Object.defineProperty, reflectDefine = Reflect.defineProperty;
  const settleKey = (object, key, value) =>
    reflectDefine(object, key, { value: value, writable: true, enumerable: true, configurable: true });
  const requestProto = { api_version: '2.0', content_type: 'application/json' };
  const member = (key, read) => defineProperty(requestProto, key, {
    get: read,
    set: function (value) { settleKey(this, key, value); },
    enumerable: true, configurable: true,
  });
  const scalar = (key, index) => member(key, function () { return part(this, index); });
  const kept = (key, index) => member(key, function () {
    const value = part(this, index);
    settleKey(this, key, value);
    return value;
  });
  scalar('method', 0); scalar('uri', 1); scalar('service', 2); scalar('resource', 3);
  kept('parameters', 4); kept('headers', 5); kept('payload', 6);
  defineProperty(requestProto, 'toJSON', {
    value: function () {
      return {
        api_version: this.api_version, method: this.method, uri: this.uri, service: this.service,
        resource: this.resource, parameters: this.parameters, headers: this.headers,
        payload: this.payload, content_type: this.content_type,
      };
    },
  });
  // One `platform` for every call: `session` reads the text of the call running now, which the
  // host sets at the start of each of its segments (a call resumed after platform.api gets its
  // own back), so no per-call object or closure is made.
  let sessionText = 'null', session;
  const platform = objectFreeze({
    api: api, config: config, store: store,
    get session() {
      if (session === undefined) session = freeze(parse(sessionText));
      return session;
    },
  });
  // `undefined`: the host says the session is the one set last.
  const platformFor = (text) => {
    if (text !== undefined && text !== sessionText) { sessionText = text; session = undefined; }
    return platform;
  };
  // The host's one call per script call: `event.request` (when given), the session, then the
  // script itself. A script that may modify the event gets a plain object whose members are all
  // its own, so that a copy (`{...event.request}`, `Object.assign`) keeps every member; built
  // as one literal, it serialises without `toJSON`. `headers`, the biggest text and the one
  // scripts read least, stays an (own) accessor until read.
  const HOST = Symbol('request');
  const invoke = (fn, event, sessionText, own, request) => {
    const platform = platformFor(sessionText);
    if (request !== undefined) {
      event.request = !own ? request : {
        api_version: '2.0', method: part(request, 0), uri: part(request, 1),
        service: part(request, 2), resource: part(request, 3),
        parameters: part(request, 4),
        get headers() {
          const value = part(this[HOST], 5);
          settleKey(this, 'headers', value);
          return value;
        },
        set headers(value) { settleKey(this, 'headers', value); },
        payload: part(request, 6), content_type: 'application/json', [HOST]: request,
      };
    }
    return fn(event, platform);
  };
  // What the host reads back from an event a script may modify: what the pipeline acts on.
  const readBack = (event) => {
    const r = event.request;
    return {
      request: r !== null && typeof r === 'object' ? { parameters: r.parameters, payload: r.payload } : r,
      response: event.response,
    };
  };
  // The host converts results itself for plain objects and arrays, and hands anything else to
  // the original JSON.stringify.
  return { compile: compile, invoke: invoke, readBack: readBack, requestProto: requestProto,
    objectPrototype: Object.prototype, stringify: stringify, platformFor: platformFor, take: take, settle: settle, forget: forget };
})
