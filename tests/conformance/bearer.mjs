// Preloaded into the conformance suite's Node process (`node --import`):
// adds `Authorization: Bearer $KEYWARD_CONFORMANCE_TOKEN` to every HTTP
// request it sends to $KEYWARD_CONFORMANCE_URL's origin, and to no other.
//
// Why: `keyward serve --http` refuses any request without an agent token,
// and the suite has no option to send a header. It makes its requests
// through Node's fetch, the MCP SDK's client transport (which uses fetch)
// and undici's `request` — all three go through undici's global dispatcher,
// so the header is added there, once per request — and, in one scenario
// (raw header validation), through node:http's `request`, wrapped below.
// Nothing else of a request is changed (the DNS-rebinding scenario's forged
// Host and Origin headers go out as the suite wrote them), and keyward's
// own authentication stays on.
import http from "node:http";
import { getGlobalDispatcher, setGlobalDispatcher } from "undici";

const token = process.env.KEYWARD_CONFORMANCE_TOKEN;
const target = process.env.KEYWARD_CONFORMANCE_URL;
if (!token || !target) {
  throw new Error("bearer.mjs needs KEYWARD_CONFORMANCE_TOKEN and KEYWARD_CONFORMANCE_URL");
}
const origin = new URL(target).origin;
const value = `Bearer ${token}`;

function withBearer(headers) {
  if (headers == null) return { authorization: value };
  if (Array.isArray(headers)) {
    // undici's flat [name, value, name, value, ...] form, or pairs.
    if (headers.length > 0 && Array.isArray(headers[0])) return [...headers, ["authorization", value]];
    return [...headers, "authorization", value];
  }
  if (typeof headers[Symbol.iterator] === "function" && typeof headers !== "string") {
    return [...headers, ["authorization", value]];
  }
  return { ...headers, authorization: value };
}

function hasAuthorization(headers) {
  if (headers == null) return false;
  const names = Array.isArray(headers)
    ? headers.length > 0 && Array.isArray(headers[0])
      ? headers.map(([k]) => k)
      : headers.filter((_, i) => i % 2 === 0)
    : Object.keys(headers);
  return names.some((k) => String(k).toLowerCase() === "authorization");
}

const bearer = (dispatch) => (opts, handler) => {
  const to = opts.origin ? new URL(String(opts.origin)).origin : null;
  if (to === origin && !hasAuthorization(opts.headers)) {
    opts = { ...opts, headers: withBearer(opts.headers) };
  }
  return dispatch(opts, handler);
};

setGlobalDispatcher(getGlobalDispatcher().compose(bearer));

// node:http: `request(options, callback)` with an options object (the only
// form the suite uses); other forms pass through untouched.
const httpRequest = http.request;
const { hostname, port } = new URL(target);
http.request = function (options, ...rest) {
  if (
    options &&
    typeof options === "object" &&
    !(options instanceof URL) &&
    (options.hostname ?? options.host) === hostname &&
    String(options.port) === port &&
    !hasAuthorization(options.headers)
  ) {
    options = { ...options, headers: withBearer(options.headers) };
  }
  return httpRequest.call(this, options, ...rest);
};
